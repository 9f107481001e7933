// Status codes and the thread-local last error shared by every native source.
#pragma once

#include <atomic>
#include <cstdint>
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

// The calls running now, and whether projntk_quiesce has closed the boundary (status.cpp).
extern std::atomic<int64_t> calls_running;
extern std::atomic<bool> boundary_closed;

// Counts one boundary call for projntk_quiesce. The count goes up before the closed flag is read, and quiesce sets the
// flag before it reads the count, so a call either sees the flag or is waited for.
struct RunningCall {
    bool refused;
    RunningCall() {
        calls_running.fetch_add(1);
        refused = boundary_closed.load();
    }
    ~RunningCall() { calls_running.fetch_sub(1); }
    RunningCall(const RunningCall &) = delete;
    RunningCall &operator=(const RunningCall &) = delete;
};

// The *_free functions do nothing once the boundary is closed: the process is exiting, and a destructor run now could
// meet libtorch's own static state half torn down. They succeed, so that close() in a user's shutdown hook does not throw.
inline bool freeing_is_moot() { return boundary_closed.load(); }

// Runs body() and maps every exception to a status code plus the last-error message.
// `where` names the boundary function, so messages read "projntk_project: ...".
template <class Body>
int guarded(const char *where, Body &&body) noexcept {
    RunningCall call;
    if (call.refused) {
        set_last_error(std::string(where) + ": the process is exiting; no new native call starts");
        return PROJNTK_ERR_EXITING;
    }
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
