// The copy counters behind transfer.hpp and projntk_copy_counts.
#include "transfer.hpp"

#include "status.hpp"

namespace projntk {
namespace transfer {

namespace {
thread_local Totals thread_totals;
}

void count(Direction direction, int64_t bytes) {
    if (direction == Direction::HostToDevice)
        thread_totals.host_to_device += bytes;
    else
        thread_totals.device_to_host += bytes;
}

Totals totals() { return thread_totals; }

}  // namespace transfer
}  // namespace projntk

extern "C" int projntk_copy_counts(int64_t *out_host_to_device, int64_t *out_device_to_host) {
    return projntk::guarded("projntk_copy_counts", [&] {
        projntk::require(out_host_to_device != nullptr && out_device_to_host != nullptr,
                         "out_host_to_device and out_device_to_host must not be NULL");
        const projntk::transfer::Totals t = projntk::transfer::totals();
        *out_host_to_device = t.host_to_device;
        *out_device_to_host = t.device_to_host;
    });
}
