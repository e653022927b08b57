// A progress bar for people watching a run on a terminal; silent when the
// output is not a TTY (cron, systemd, pipes). Safe to call from the runner's
// worker threads.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace meoktong {

class Progress {
public:
    // Draws on `out` only when `enabled`; see for_stderr() for the usual choice.
    Progress(size_t total, std::FILE* out, bool enabled);
    // Enabled when stderr is a terminal.
    static Progress for_stderr(size_t total);

    // One more target done; `label` (e.g. the host) is shown after the count.
    void advance(const std::string& label = "");
    // Clears the bar's line (call once when the run is over).
    void finish();

    bool enabled() const { return enabled_; }
    size_t done() const;

private:
    void draw(const std::string& label);

    size_t total_;
    size_t done_ = 0;
    std::FILE* out_;
    bool enabled_;
    bool finished_ = false;
    mutable std::mutex mutex_;
};

// "[#########...........]  12/40  line.me" fitted to `width` characters.
std::string render_progress_line(size_t done, size_t total, const std::string& label, size_t width);

}  // namespace meoktong
