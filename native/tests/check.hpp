// The check macro and counters shared by the native test programs. PROJNTK_CHECK, not CHECK: libtorch's headers
// bring glog's CHECK.
#pragma once

#include <cstdio>

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
