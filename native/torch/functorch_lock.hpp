// The process-wide lock around ATen's functorch transforms (vmap, grad).
#pragma once

#include <mutex>

namespace projntk {

// libtorch 1.13 keeps functorch's per-layer metadata in a process-wide map keyed by layer id, and layer ids restart
// at 1 on every thread: two threads running vmap(grad) at once collide there
// ("data.find(layerId) == data.end()" in ATen/functorch/DynamicLayer.cpp). Every push of a functorch layer therefore
// happens under this lock, held from the first push to the last pop. The per-example loop takes no lock.
inline std::mutex &functorch_mutex() {
    static std::mutex mutex;
    return mutex;
}

}  // namespace projntk
