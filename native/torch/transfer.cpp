// The libtorch front-end of the copy counter (common/transfer.hpp): the only ways the projection path moves a tensor
// between host and device memory.
#include "torch_internal.hpp"
#include "transfer.hpp"

namespace projntk {

namespace {
void count_crossing(const at::Tensor &t, torch::Device to) {
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    if (t.device().is_cpu() && !to.is_cpu()) transfer::count(transfer::Direction::HostToDevice, bytes);
    if (!t.device().is_cpu() && to.is_cpu()) transfer::count(transfer::Direction::DeviceToHost, bytes);
}
}  // namespace

at::Tensor copy_to(const at::Tensor &t, torch::Device device) {
    count_crossing(t, device);
    return t.to(device, /*non_blocking=*/false, /*copy=*/true);  // COUNTED_COPY: the counting helper itself
}

at::Tensor to_host(const at::Tensor &t) {
    if (t.device().is_cpu()) return t;
    count_crossing(t, torch::kCPU);
    return t.to(torch::kCPU);  // COUNTED_COPY: the counting helper itself
}

}  // namespace projntk
