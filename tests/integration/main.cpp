// The one translation unit that provides the CAF test framework's main().
#include <caf/test/unit_test_impl.hpp>
