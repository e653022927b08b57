// The one logger of every library: structured operational logs, one line per
// event, `ts=... level=... event=... key=value ...`, to stderr or syslog.
// Secrets (the control token, the upload token) are redacted from every line.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meoktong {

enum class LogLevel { debug, info, warn, error };

struct LogField {
    std::string key;
    std::string value;
};
using LogFields = std::vector<LogField>;

class Logger {
public:
    // Receives each finished line (no trailing newline) and its level.
    using Sink = std::function<void(LogLevel, const std::string&)>;

    explicit Logger(Sink sink, LogLevel min_level = LogLevel::info);
    // Lines to stderr; silent below min_level.
    static Logger to_stderr(LogLevel min_level = LogLevel::info);
    // Lines to syslog(3) as ident "meoktong", facility daemon.
    static Logger to_syslog(LogLevel min_level = LogLevel::info);
    // Drops everything (the default before a run configures logging).
    static Logger discard();

    // Any later occurrence of `secret` in a value is written as "[redacted]".
    // Empty or very short (< 4 characters) secrets are ignored.
    void add_secret(const std::string& secret);

    void log(LogLevel level, std::string_view event, const LogFields& fields = {});
    void debug(std::string_view event, const LogFields& fields = {}) { log(LogLevel::debug, event, fields); }
    void info(std::string_view event, const LogFields& fields = {}) { log(LogLevel::info, event, fields); }
    void warn(std::string_view event, const LogFields& fields = {}) { log(LogLevel::warn, event, fields); }
    void error(std::string_view event, const LogFields& fields = {}) { log(LogLevel::error, event, fields); }

    // The line `log` would write at wall-clock time `ts` (ISO 8601 UTC), redacted.
    std::string format(std::string_view ts, LogLevel level, std::string_view event,
                       const LogFields& fields) const;

private:
    std::string redact(std::string value) const;

    Sink sink_;
    LogLevel min_level_;
    std::vector<std::string> secrets_;
    std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
};

// "stderr" | "syslog" -> a logger; throws InputError otherwise.
Logger make_logger(const std::string& destination, LogLevel min_level = LogLevel::info);
const char* log_level_name(LogLevel level);

// The process-wide logger every library logs through (discards until a
// command sets one).
Logger& process_logger();
void set_process_logger(Logger logger);

}  // namespace meoktong
