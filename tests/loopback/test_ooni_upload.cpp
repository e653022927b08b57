// Upload to an OONI collector (`--upload ooni+URL`): an in-test cpp-httplib
// server on 127.0.0.1 checks each request as OONI's collector API says
// (ooni/spec backends/bk-003-collector.md: POST /report with the required
// fields and their patterns, POST /report/{id} with df-000 measurements of
// that report, POST /report/{id}/close) and answers like it; the queued
// report's records arrive as OONI measurements that analyze reads back, with
// no probe IP and no token. The real OONI backend is not a Debian package.
#include <doctest/doctest.h>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "analysis/analyze/ooni.hpp"
#include "probe/ops/upload.hpp"

using namespace meoktong;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool matches(const json& j, const char* key, const char* pattern) {
    return j.contains(key) && j[key].is_string() && std::regex_match(j[key].get<std::string>(), std::regex(pattern));
}

// What bk-003 §3.1 requires of POST /report; "" when the request complies.
std::string open_problem(const json& j) {
    if (!j.is_object()) return "not a JSON object";
    if (j.value("data_format_version", "") != "0.2.0") return "data_format_version";
    if (j.value("format", "") != "json") return "format";
    if (!matches(j, "probe_asn", "^AS[0-9]{1,10}$")) return "probe_asn";
    if (!matches(j, "probe_cc", "^[A-Z]{2}$")) return "probe_cc";
    if (!matches(j, "software_name", "^[0-9A-Za-z_\\.+-]+$")) return "software_name";
    if (!matches(j, "software_version", "^[0-9A-Za-z_.+-]+$")) return "software_version";
    if (!matches(j, "test_name", "^[a-zA-Z0-9_\\- ]+$")) return "test_name";
    if (!matches(j, "test_version", "^[0-9A-Za-z_.+-]+$")) return "test_version";
    if (j.contains("test_start_time") && !matches(j, "test_start_time", "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$"))
        return "test_start_time";
    if (j.contains("probe_ip")) return "probe_ip sent";
    return "";
}

// What a df-000 measurement of report `id` needs; "" when it complies.
std::string measurement_problem(const json& m, const std::string& id) {
    if (!m.is_object()) return "content is not a JSON object";
    for (const char* key : {"data_format_version", "input", "measurement_start_time", "probe_asn", "probe_cc",
                            "software_name", "software_version", "test_name", "test_version", "test_keys"})
        if (!m.contains(key)) return std::string("missing ") + key;
    if (m.value("report_id", "") != id) return "report_id is not the opened report's";
    if (!matches(m, "measurement_start_time", "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$")) return "measurement_start_time";
    if (m.contains("probe_ip") && m["probe_ip"] != "127.0.0.1") return "a probe IP";
    return "";
}

// An OONI collector as bk-003 describes it; a request that does not comply
// is answered 400 and recorded in `problems`.
class OoniCollector {
public:
    OoniCollector() {
        server_.Post("/report", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            ++opens;
            if (!req.get_header_value("Authorization").empty()) problems.push_back("a token was sent");
            if (fail_open_with) {
                res.status = fail_open_with;
                return;
            }
            std::string problem = open_problem(json::parse(req.body, nullptr, false));
            if (!problem.empty()) {
                problems.push_back("POST /report: " + problem);
                res.status = 400;
                return;
            }
            std::string id = "20261122T030000Z_meoktong_KR_4766_n1_" + std::to_string(opens) + "abcdefABCDEF";
            reports[id];
            res.set_content(json{{"backend_version", "1.3.0"}, {"report_id", id}, {"supported_formats", {"json"}}}.dump(),
                            "application/json");
        });
        server_.Post(R"(/report/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            std::string id = req.matches[1];
            if (!reports.count(id) || closed.count(id)) {
                res.status = 404;
                return;
            }
            if (fail_measurement_at > 0 && ++measurements_seen == fail_measurement_at) {
                res.status = 503;  // once: a collector restarting in the middle of a report
                return;
            }
            json update = json::parse(req.body, nullptr, false);
            std::string problem = !update.is_object() || update.value("format", "") != "json"
                                      ? "format"
                                      : measurement_problem(update["content"], id);
            if (!problem.empty()) {
                problems.push_back("POST /report/" + id + ": " + problem);
                res.status = 400;
                return;
            }
            reports[id].push_back(update["content"].dump());
            res.set_content(R"({"status": "success"})", "application/json");
        });
        server_.Post(R"(/report/([^/]+)/close)", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            std::string id = req.matches[1];
            if (!reports.count(id)) {
                res.status = 404;
                return;
            }
            closed.insert(id);
            res.set_content("{}", "application/json");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~OoniCollector() {
        server_.stop();
        thread_.join();
    }
    std::string url() const { return "ooni+http://127.0.0.1:" + std::to_string(port_) + "/"; }

    std::mutex mutex;
    int opens = 0;
    int fail_open_with = 0;
    int fail_measurement_at = 0;  // answer 503 to the Nth measurement POST (0: never)
    int measurements_seen = 0;
    std::map<std::string, std::vector<std::string>> reports;  // report id -> measurements
    std::set<std::string> closed;
    std::vector<std::string> problems;

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

struct Queue {
    fs::path dir = fs::temp_directory_path() / ("meoktong-ooni-upload-" + std::to_string(getpid()));
    fs::path queue = dir / "upload";
    const std::string name = "20261122T030000Z_seoul-kt_run-o.jsonl";
    Queue() {
        fs::remove_all(dir);
        fs::create_directories(dir);
        fs::copy_file(std::string(MEOKTONG_SOURCE_DIR) + "/tests/data/analyze/kr-sni/kr-seoul-kt.jsonl", dir / name);
        enqueue_report(queue.string(), (dir / name).string());
    }
    ~Queue() { fs::remove_all(dir); }
    UploadSettings settings(const std::string& url) const {
        UploadSettings s;
        s.url = url;
        s.token = "secret-token-not-for-ooni";
        s.timeout_ms = 5000;
        s.attempts = 2;
        s.sleep = [](std::chrono::milliseconds) {};
        return s;
    }
};

}  // namespace

TEST_CASE("ooni+URL: one OONI report opened, every record submitted as a measurement, closed") {
    Queue q;
    OoniCollector ooni;
    auto outcomes = drain_upload_queue(q.queue.string(), q.settings(ooni.url()));
    REQUIRE(outcomes.size() == 1);
    CHECK_MESSAGE(outcomes[0].delivered, outcomes[0].last_error);
    std::lock_guard lock(ooni.mutex);
    CHECK(ooni.problems.empty());
    for (const auto& p : ooni.problems) MESSAGE(p);
    CHECK(ooni.opens == 1);
    REQUIRE(ooni.reports.size() == 1);
    const auto& report = ooni.reports.begin()->second;
    CHECK(report.size() == 18);
    CHECK(ooni.closed.count(ooni.reports.begin()->first) == 1);
    CHECK(fs::exists(q.queue / "sent" / q.name));

    // What OONI stores reads back in analyze as the records that were queued.
    std::set<std::string> ids;
    std::ifstream in(q.dir / q.name);
    for (std::string line; std::getline(in, line);) ids.insert(json::parse(line)["id"].get<std::string>());
    std::set<std::string> received;
    for (const auto& m : report) {
        CHECK(m.find("secret-token") == std::string::npos);
        std::vector<Record> back;
        std::string why;
        REQUIRE_MESSAGE(analyze::read_ooni_measurement(m, back, why), why);
        REQUIRE(back.size() == 1);
        CHECK(back[0].vantage.cc == "KR");
        received.insert(back[0].id);
    }
    CHECK(received == ids);
}

TEST_CASE("ooni+URL: a collector refusing to open the report leaves it queued; a 4xx is not retried") {
    Queue q;
    OoniCollector ooni;
    ooni.fail_open_with = 503;
    auto down = drain_upload_queue(q.queue.string(), q.settings(ooni.url()));
    REQUIRE(down.size() == 1);
    CHECK(!down[0].delivered);
    CHECK(down[0].attempts == 2);
    CHECK(down[0].last_error == "HTTP 503");
    ooni.fail_open_with = 400;
    auto refused = drain_upload_queue(q.queue.string(), q.settings(ooni.url()));
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].attempts == 1);
    CHECK(pending_reports(q.queue.string()) == std::vector<std::string>{q.name});
    std::lock_guard lock(ooni.mutex);
    CHECK(ooni.reports.empty());
}

TEST_CASE("ooni+URL: a submission cut in the middle goes on with the same OONI report, in this run or the next") {
    Queue q;
    OoniCollector ooni;
    ooni.fail_measurement_at = 5;
    UploadSettings once = q.settings(ooni.url());
    once.attempts = 1;
    auto cut = drain_upload_queue(q.queue.string(), once);  // this run gives up after the 503
    REQUIRE(cut.size() == 1);
    CHECK_FALSE(cut[0].delivered);
    CHECK(fs::exists(q.queue / "ooni" / (q.name + ".json")));
    auto resumed = drain_upload_queue(q.queue.string(), once);  // the next run resumes
    REQUIRE(resumed.size() == 1);
    CHECK_MESSAGE(resumed[0].delivered, resumed[0].last_error);
    std::lock_guard lock(ooni.mutex);
    CHECK(ooni.problems.empty());
    CHECK(ooni.opens == 1);
    REQUIRE(ooni.reports.size() == 1);
    const auto& report = ooni.reports.begin()->second;
    CHECK(report.size() == 18);
    CHECK(std::set<std::string>(report.begin(), report.end()).size() == 18);  // none submitted twice
    CHECK(ooni.closed.size() == 1);
    CHECK_FALSE(fs::exists(q.queue / "ooni" / (q.name + ".json")));
}

TEST_CASE("ooni+URL: a report the collector no longer knows is opened anew on the next try") {
    Queue q;
    OoniCollector ooni;
    ooni.fail_measurement_at = 3;
    UploadSettings once = q.settings(ooni.url());
    once.attempts = 1;
    CHECK_FALSE(drain_upload_queue(q.queue.string(), once).at(0).delivered);
    {
        std::lock_guard lock(ooni.mutex);
        ooni.reports.clear();  // the collector restarted and lost the open report
    }
    auto gone = drain_upload_queue(q.queue.string(), once);
    CHECK_FALSE(gone.at(0).delivered);
    CHECK(gone.at(0).last_error.find("no longer knows report") != std::string::npos);
    auto again = drain_upload_queue(q.queue.string(), once);
    CHECK_MESSAGE(again.at(0).delivered, again.at(0).last_error);
    std::lock_guard lock(ooni.mutex);
    CHECK(ooni.opens == 2);
    REQUIRE(ooni.reports.size() == 1);
    CHECK(ooni.reports.begin()->second.size() == 18);
}
