// TEMPORARY until issue 6 lands: no test lists yet.
#include "meoktong/testlist.hpp"

#include "meoktong/target.hpp"

namespace meoktong {

TestList load_list(const std::string& name_or_path) {
    throw InputError("test list '" + name_or_path + "': test lists are not implemented yet");
}
TestList parse_list(const std::string&, const std::string& origin) {
    throw InputError("test list '" + origin + "': test lists are not implemented yet");
}
std::vector<std::string> builtin_list_names() { return {}; }
std::string testlists_dir() { return ""; }

}  // namespace meoktong
