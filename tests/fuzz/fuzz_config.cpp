// libFuzzer target: the operator's config file (probe/ops/config.cpp) on
// arbitrary bytes. Only InputError may come out; anything else (a crash, a
// sanitizer report, another exception) is a bug.
// links: ops
#include <cstddef>
#include <cstdint>
#include <string>

#include "meoktong/target.hpp"
#include "probe/ops/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        meoktong::RunConfig config = meoktong::parse_config(text, "fuzz");
        meoktong::RunConfig cli;
        cli.lists = {"kr"};
        meoktong::merge_options(config, cli);
    } catch (const meoktong::InputError&) {
    }
    return 0;
}
