// Every copy between host and device memory on the projection path goes through here, so that it is counted: the
// device check reports the bytes copied per batch against B·P·4, and TransferScanTest fails the build when a source
// of that path copies without these helpers (the libtorch front-end is in torch/transfer.cpp, the CUDA one in
// jl/projector_cuda.cu's copy_counted).
#pragma once

#include <stdint.h>

namespace projntk {
namespace transfer {

enum class Direction { HostToDevice, DeviceToHost };

struct Totals {
    int64_t host_to_device = 0;
    int64_t device_to_host = 0;
};

// Adds bytes to the calling thread's totals (a copy is made on the thread that asks for it).
void count(Direction direction, int64_t bytes);
// The calling thread's totals since it started.
Totals totals();

}  // namespace transfer
}  // namespace projntk
