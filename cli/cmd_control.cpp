// meoktong control: placeholder until its issue lands; says so and fails.
#include <iostream>

#include "meoktong/commands.hpp"

namespace meoktong {

int cmd_control(const Args&) {
    std::cerr << "meoktong: 'control' is not implemented yet\n";
    return 1;
}

}  // namespace meoktong
