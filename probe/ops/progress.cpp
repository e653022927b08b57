// Terminal progress bar (see progress.hpp).
#include "probe/ops/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

namespace meoktong {

namespace {

constexpr size_t kDefaultWidth = 80;
constexpr size_t kBarCells = 24;

size_t terminal_width(std::FILE* out) {
    winsize ws{};
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
    return kDefaultWidth;
}

}  // namespace

std::string render_progress_line(size_t done, size_t total, const std::string& label, size_t width) {
    done = std::min(done, total);
    size_t filled = total == 0 ? kBarCells : done * kBarCells / total;
    std::string line = "[" + std::string(filled, '#') + std::string(kBarCells - filled, '.') + "] " +
                       std::to_string(done) + "/" + std::to_string(total);
    if (!label.empty()) line += "  " + label;
    // Control characters in a label would break the terminal line.
    for (char& c : line)
        if (static_cast<unsigned char>(c) < ' ') c = '?';
    if (line.size() >= width) line.resize(width > 1 ? width - 1 : 0);
    return line;
}

Progress::Progress(size_t total, std::FILE* out, bool enabled) : total_(total), out_(out), enabled_(enabled) {}

Progress Progress::for_stderr(size_t total) { return Progress(total, stderr, isatty(fileno(stderr)) == 1); }

void Progress::advance(const std::string& label) {
    std::lock_guard lock(mutex_);
    ++done_;
    draw(label);
}

size_t Progress::done() const {
    std::lock_guard lock(mutex_);
    return done_;
}

void Progress::draw(const std::string& label) {
    if (!enabled_ || finished_) return;
    std::string line = render_progress_line(done_, total_, label, terminal_width(out_));
    std::fprintf(out_, "\r\033[K%s", line.c_str());
    std::fflush(out_);
}

void Progress::finish() {
    std::lock_guard lock(mutex_);
    if (!enabled_ || finished_) return;
    finished_ = true;
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
}

}  // namespace meoktong
