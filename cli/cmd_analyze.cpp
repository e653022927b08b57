// meoktong analyze: placeholder until its issue lands; says so and fails.
#include <iostream>

#include "meoktong/commands.hpp"

namespace meoktong {

int cmd_analyze(const Args&) {
    std::cerr << "meoktong: 'analyze' is not implemented yet\n";
    return 1;
}

}  // namespace meoktong
