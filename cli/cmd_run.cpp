// meoktong run: placeholder until its issue lands; says so and fails.
#include <iostream>

#include "meoktong/commands.hpp"

namespace meoktong {

int cmd_run(const Args&) {
    std::cerr << "meoktong: 'run' is not implemented yet\n";
    return 1;
}

}  // namespace meoktong
