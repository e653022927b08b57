// The build's version, git commit and build date (see meoktong/record.hpp),
// compiled with the values CMake found at configure time.
#include "meoktong/record.hpp"

namespace meoktong {

const char* const kSoftwareVersion = MEOKTONG_VERSION;
const char* const kSoftwareCommit = MEOKTONG_GIT_COMMIT;
const char* const kSoftwareBuildDate = MEOKTONG_BUILD_DATE;

}  // namespace meoktong
