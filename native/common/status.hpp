// Status codes and the thread-local last error shared by every native source.
#pragma once

#include <new>
#include <stdexcept>
#include <string>

#include "projntk.h"

namespace projntk {

// Throw this anywhere below the boundary to fail with a specific status.
struct Error : std::runtime_error {
    int status;
    Error(int status_code, const std::string &message) : std::runtime_error(message), status(status_code) {}
};

void set_last_error(const std::string &message);
void clear_last_error();

// Runs body() and maps every exception to a status code plus the last-error message.
// `where` names the boundary function, so messages read "projntk_project: ...".
template <class Body>
int guarded(const char *where, Body &&body) noexcept {
    try {
        clear_last_error();
        body();
        return PROJNTK_OK;
    } catch (const Error &e) {
        set_last_error(std::string(where) + ": " + e.what());
        return e.status;
    } catch (const std::bad_alloc &) {
        set_last_error(std::string(where) + ": out of memory");
        return PROJNTK_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        set_last_error(std::string(where) + ": " + e.what());
        return PROJNTK_ERR_INTERNAL;
    } catch (...) {
        set_last_error(std::string(where) + ": unknown native exception");
        return PROJNTK_ERR_INTERNAL;
    }
}

inline void require(bool condition, const std::string &message) {
    if (!condition) throw Error(PROJNTK_ERR_INVALID_ARGUMENT, message);
}

}  // namespace projntk
