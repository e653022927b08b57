// The benchmark's loopback servers (scripts/bench): `loopback_bench_server
// OK REFUSED SILENT` starts OK TLS servers (test CA), picks REFUSED closed
// ports and SILENT servers that accept nothing, prints "ca PATH" then one
// target URI per line and "ready", and serves until stdin closes.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "test_servers.hpp"

using namespace meoktong::testing;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: loopback_bench_server OK REFUSED SILENT\n";
        return 2;
    }
    int ok = std::atoi(argv[1]), refused = std::atoi(argv[2]), silent = std::atoi(argv[3]);
    std::vector<std::unique_ptr<TcpTestServer>> servers;
    std::cout << "ca " << TestPki::get().ca_file << "\n";
    for (int i = 0; i < ok; ++i) {
        servers.push_back(std::make_unique<TcpTestServer>(Behaviour::TlsOk, TestPki::get().good));
        std::cout << "tls://127.0.0.1:" << servers.back()->port() << "\n";
    }
    for (int i = 0; i < silent; ++i) {
        servers.push_back(std::make_unique<TcpTestServer>(Behaviour::Silent));
        std::cout << "tls://127.0.0.1:" << servers.back()->port() << "\n";
    }
    for (int i = 0; i < refused; ++i) std::cout << "tls://127.0.0.1:" << closed_port() << "\n";
    std::cout << "ready" << std::endl;
    while (std::getchar() != EOF) {
    }
    return 0;
}
