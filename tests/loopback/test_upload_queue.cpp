// Upload queue: a local cpp-httplib collector on 127.0.0.1 that fails, then
// accepts; every report is delivered exactly once, moved to sent/ only after
// a 2xx, and resent under the same idempotency key if the move was lost.
#include <doctest/doctest.h>

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "probe/ops/upload.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

namespace {

// A collector that answers `failures_left` requests with `failure_status`,
// then 200, and dedupes deliveries by Idempotency-Key like a real one would.
class Collector {
public:
    Collector() {
        server_.Post("/v1/reports", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex_);
            ++requests;
            last_authorization = req.get_header_value("Authorization");
            if (failures_left > 0) {
                --failures_left;
                res.status = failure_status;
                return;
            }
            std::string key = req.get_header_value("Idempotency-Key");
            ++posts_by_key[key];
            bodies[key] = req.body;
            res.status = 200;
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~Collector() {
        server_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/reports"; }

    std::mutex mutex_;
    int failures_left = 0;
    int failure_status = 503;
    int requests = 0;
    std::map<std::string, int> posts_by_key;  // successful POSTs per key
    std::map<std::string, std::string> bodies;
    std::string last_authorization;

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

struct QueueFixture {
    fs::path dir;
    fs::path queue;
    std::vector<std::chrono::milliseconds> sleeps;

    QueueFixture() {
        dir = fs::temp_directory_path() / ("meoktong-upload-test-" + std::to_string(getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        queue = dir / "upload";
    }
    ~QueueFixture() { fs::remove_all(dir); }

    std::string report(const std::string& name, const std::string& body) {
        std::ofstream(dir / name) << body;
        enqueue_report(queue.string(), (dir / name).string());
        return name;
    }
    UploadSettings settings(const std::string& url) {
        UploadSettings s;
        s.url = url;
        s.timeout_ms = 5000;
        s.attempts = 4;
        s.first_backoff = std::chrono::milliseconds(100);
        s.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
        return s;
    }
};

const char* kReportA = "20261122T030000Z_seoul-1_run-a.jsonl";
const char* kReportB = "20261122T040000Z_seoul-1_run-b.jsonl";

}  // namespace

TEST_CASE("failures then success: exactly one delivery, moved to sent/") {
    QueueFixture q;
    Collector collector;
    collector.failures_left = 2;
    q.report(kReportA, "{\"id\":\"1\"}\n");
    auto outcomes = drain_upload_queue(q.queue.string(), q.settings(collector.url()));
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].delivered);
    CHECK(outcomes[0].attempts == 3);
    CHECK(outcomes[0].last_status == 200);
    CHECK(collector.requests == 3);
    CHECK(collector.posts_by_key[kReportA] == 1);
    CHECK(collector.bodies[kReportA] == "{\"id\":\"1\"}\n");
    CHECK(q.sleeps == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(100),
                                                            std::chrono::milliseconds(200)});
    CHECK(fs::exists(q.queue / "sent" / kReportA));
    CHECK(pending_reports(q.queue.string()).empty());

    // A second drain sends nothing; queueing the same report again does nothing.
    q.report(kReportA, "{\"id\":\"1\"}\n");
    CHECK(drain_upload_queue(q.queue.string(), q.settings(collector.url())).empty());
    CHECK(collector.requests == 3);
}

TEST_CASE("collector down: the report stays queued, then goes when it is back") {
    QueueFixture q;
    q.report(kReportA, "a\n");
    q.report(kReportB, "b\n");
    std::string url;
    {
        Collector gone;  // learn a free port, then close it
        url = gone.url();
    }
    auto outcomes = drain_upload_queue(q.queue.string(), q.settings(url));
    REQUIRE(outcomes.size() == 1);  // the drain stops at the first unreachable delivery
    CHECK(!outcomes[0].delivered);
    CHECK(outcomes[0].attempts == 4);
    CHECK(outcomes[0].last_status == 0);
    CHECK(!outcomes[0].last_error.empty());
    CHECK(pending_reports(q.queue.string()) == std::vector<std::string>{kReportA, kReportB});

    Collector collector;
    outcomes = drain_upload_queue(q.queue.string(), q.settings(collector.url()));
    REQUIRE(outcomes.size() == 2);
    CHECK(outcomes[0].delivered);
    CHECK(outcomes[1].delivered);
    CHECK(collector.posts_by_key[kReportA] == 1);
    CHECK(collector.posts_by_key[kReportB] == 1);
    CHECK(pending_reports(q.queue.string()).empty());
}

TEST_CASE("a lost move to sent/ resends under the same idempotency key") {
    QueueFixture q;
    Collector collector;
    q.report(kReportA, "a\n");
    REQUIRE(drain_upload_queue(q.queue.string(), q.settings(collector.url())).at(0).delivered);
    // A run killed after the collector's 2xx but before the rename looks like this:
    fs::copy_file(q.queue / "sent" / kReportA, q.queue / "pending" / kReportA);
    REQUIRE(drain_upload_queue(q.queue.string(), q.settings(collector.url())).at(0).delivered);
    CHECK(collector.posts_by_key.size() == 1);           // one key: the collector dedupes
    CHECK(collector.posts_by_key[kReportA] == 2);
}

TEST_CASE("a client error is not retried and does not block the reports behind it") {
    QueueFixture q;
    Collector collector;
    collector.failures_left = 1;
    collector.failure_status = 400;
    q.report(kReportA, "a\n");
    q.report(kReportB, "b\n");
    auto outcomes = drain_upload_queue(q.queue.string(), q.settings(collector.url()));
    REQUIRE(outcomes.size() == 2);
    CHECK(!outcomes[0].delivered);
    CHECK(outcomes[0].attempts == 1);
    CHECK(outcomes[0].last_error == "HTTP 400");
    CHECK(outcomes[1].delivered);
    CHECK(pending_reports(q.queue.string()) == std::vector<std::string>{kReportA});
}

TEST_CASE("the upload token goes in the Authorization header") {
    QueueFixture q;
    Collector collector;
    q.report(kReportA, "a\n");
    auto settings = q.settings(collector.url());
    settings.token = "collector-secret";
    drain_upload_queue(q.queue.string(), settings);
    CHECK(collector.last_authorization == "Bearer collector-secret");
}

TEST_CASE("plain http to a non-loopback collector is refused without sending") {
    QueueFixture q;
    q.report(kReportA, "a\n");
    auto outcomes = drain_upload_queue(q.queue.string(), q.settings("http://192.0.2.1/v1/reports"));
    REQUIRE(outcomes.size() == 1);
    CHECK(!outcomes[0].delivered);
    CHECK(outcomes[0].attempts == 0);
    CHECK(outcomes[0].last_error.find("https://") != std::string::npos);
    CHECK(pending_reports(q.queue.string()) == std::vector<std::string>{kReportA});
}

TEST_CASE("queue layout: pending holds whole reports only, temp files are ignored") {
    QueueFixture q;
    q.report(kReportA, "a\n");
    std::ofstream(q.queue / "pending" / ".20261122T050000Z_x_y.jsonl.tmp") << "partial";
    CHECK(pending_reports(q.queue.string()) == std::vector<std::string>{kReportA});
    CHECK(upload_queue_dir_for_output("/var/lib/meoktong") == "/var/lib/meoktong/upload");
    CHECK(upload_queue_dir_for_output("/tmp/r.jsonl") == "/tmp/upload");
}
