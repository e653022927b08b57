// Structured one-line-per-event logs (see meoktong/log.hpp): formatting,
// quoting, secret redaction and the stderr/syslog sinks.
#include "meoktong/log.hpp"

#include <syslog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>

#include "meoktong/target.hpp"
#include "meoktong/text.hpp"
#include "meoktong/time.hpp"

namespace meoktong {

namespace {

constexpr const char* kRedacted = "[redacted]";
constexpr size_t kMinSecretLength = 4;

bool is_secret_key(std::string_view key) {
    static const std::string_view secret_keys[] = {"token", "control_token", "upload_token",
                                                   "authorization", "password", "secret"};
    return std::find(std::begin(secret_keys), std::end(secret_keys), key) != std::end(secret_keys);
}

bool needs_quotes(std::string_view value) {
    if (value.empty()) return true;
    return std::any_of(value.begin(), value.end(), [](unsigned char c) {
        return c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
    });
}

std::string quote(std::string_view value) {
    std::string out = "\"";
    for (unsigned char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < ' ' || c == 0x7f) {
            out += "\\x" + hex_encode(std::string_view(reinterpret_cast<const char*>(&c), 1));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string value_text(std::string_view value) {
    return needs_quotes(value) ? quote(value) : std::string(value);
}

// Keys are identifiers: anything else becomes '_', so a key never breaks the line.
std::string key_text(std::string_view key) {
    std::string out(key.empty() ? "_" : key);
    for (char& c : out) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) c = '_';
    }
    return out;
}

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return LOG_DEBUG;
        case LogLevel::info: return LOG_INFO;
        case LogLevel::warn: return LOG_WARNING;
        case LogLevel::error: return LOG_ERR;
    }
    return LOG_INFO;
}

}  // namespace

const char* log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "info";
}

Logger::Logger(Sink sink, LogLevel min_level) : sink_(std::move(sink)), min_level_(min_level) {}

Logger Logger::to_stderr(LogLevel min_level) {
    return Logger([](LogLevel, const std::string& line) { std::cerr << line << '\n' << std::flush; },
                  min_level);
}

Logger Logger::to_syslog(LogLevel min_level) {
    openlog("meoktong", LOG_PID, LOG_DAEMON);
    return Logger([](LogLevel level, const std::string& line) {
        syslog(syslog_priority(level), "%s", line.c_str());
    }, min_level);
}

Logger Logger::discard() {
    return Logger([](LogLevel, const std::string&) {}, LogLevel::error);
}

void Logger::add_secret(const std::string& secret) {
    if (secret.size() < kMinSecretLength) return;
    std::lock_guard lock(*mutex_);
    secrets_.push_back(secret);
}

std::string Logger::redact(std::string value) const {
    for (const auto& secret : secrets_) {
        for (size_t at = value.find(secret); at != std::string::npos;
             at = value.find(secret, at + std::char_traits<char>::length(kRedacted))) {
            value.replace(at, secret.size(), kRedacted);
        }
    }
    return value;
}

std::string Logger::format(std::string_view ts, LogLevel level, std::string_view event,
                           const LogFields& fields) const {
    std::string line = "ts=" + value_text(ts) + " level=" + log_level_name(level) +
                       " event=" + value_text(redact(std::string(event)));
    for (const auto& field : fields) {
        std::string value = is_secret_key(field.key) ? kRedacted : redact(field.value);
        line += ' ' + key_text(field.key) + '=' + value_text(value);
    }
    return line;
}

void Logger::log(LogLevel level, std::string_view event, const LogFields& fields) {
    if (level < min_level_) return;
    std::lock_guard lock(*mutex_);
    sink_(level, format(iso_utc_ms(std::chrono::system_clock::now()), level, event, fields));
}

Logger make_logger(const std::string& destination, LogLevel min_level) {
    if (destination == "stderr") return Logger::to_stderr(min_level);
    if (destination == "syslog") return Logger::to_syslog(min_level);
    throw InputError("bad --log '" + destination + "': expected stderr or syslog");
}

namespace {
Logger& process_logger_slot() {
    static Logger logger = Logger::discard();
    return logger;
}
}  // namespace

Logger& process_logger() { return process_logger_slot(); }

void set_process_logger(Logger logger) { process_logger_slot() = std::move(logger); }

}  // namespace meoktong
