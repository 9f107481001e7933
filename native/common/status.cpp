#include "status.hpp"

#include <chrono>
#include <cstring>
#include <thread>

namespace projntk {

static thread_local std::string last_error;

std::atomic<int64_t> calls_running{0};
std::atomic<bool> boundary_closed{false};

void set_last_error(const std::string &message) { last_error = message; }
void clear_last_error() { last_error.clear(); }

}  // namespace projntk

extern "C" int projntk_last_error(char *buf, int64_t cap, int64_t *out_len) {
    const std::string &message = projntk::last_error;
    if (out_len) *out_len = static_cast<int64_t>(message.size());
    if (buf && cap > 0) {
        size_t n = message.size() < static_cast<size_t>(cap - 1) ? message.size() : static_cast<size_t>(cap - 1);
        std::memcpy(buf, message.data(), n);
        buf[n] = '\0';
    }
    return PROJNTK_OK;
}

extern "C" int projntk_quiesce(int64_t timeout_ms, int64_t *out_running) {
    using clock = std::chrono::steady_clock;
    projntk::boundary_closed.store(true);
    const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 0);
    int64_t running = projntk::calls_running.load();
    while (running > 0 && clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        running = projntk::calls_running.load();
    }
    if (out_running) *out_running = running;
    return PROJNTK_OK;
}
