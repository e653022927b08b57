// meoktong lists: placeholder until its issue lands; says so and fails.
#include <iostream>

#include "meoktong/commands.hpp"

namespace meoktong {

int cmd_lists(const Args&) {
    std::cerr << "meoktong: 'lists' is not implemented yet\n";
    return 1;
}

}  // namespace meoktong
