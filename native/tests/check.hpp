// The check macro and counters shared by the native test programs. PROJNTK_CHECK, not CHECK: libtorch's headers
// bring glog's CHECK.
#pragma once

#include <cstdio>
#include <string>

#include "projntk.h"

static int g_failures = 0, g_checks = 0;
#define PROJNTK_CHECK(cond, ...)                                        \
    do {                                                                \
        ++g_checks;                                                     \
        if (!(cond)) {                                                  \
            ++g_failures;                                               \
            std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            std::printf(__VA_ARGS__);                                   \
            std::printf("\n");                                          \
        }                                                               \
    } while (0)

// The library's last error message on this thread.
static inline std::string last_error() {
    char buf[4096];
    projntk_last_error(buf, sizeof buf, nullptr);
    return buf;
}

// A projntk_* call that must return PROJNTK_OK; a failure prints the call, its status and the last error.
#define CHECK_OK(call)                                                                                       \
    do {                                                                                                     \
        int rc_ = (call);                                                                                    \
        ++g_checks;                                                                                          \
        if (rc_ != PROJNTK_OK) {                                                                             \
            ++g_failures;                                                                                    \
            std::printf("FAIL %s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, rc_, last_error().c_str()); \
        }                                                                                                    \
    } while (0)
