#include "status.hpp"

#include <cstring>

namespace projntk {

static thread_local std::string last_error;

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
