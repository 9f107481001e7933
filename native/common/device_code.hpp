// The `device` argument of projntk.h: a projntk_device in the lowest 8 bits, a CUDA device's ordinal above them.
#pragma once

#include <stdint.h>

#include <string>

#include "status.hpp"

namespace projntk {

struct DeviceCode {
    int32_t kind;     // PROJNTK_DEVICE_CPU or PROJNTK_DEVICE_CUDA
    int32_t ordinal;  // the CUDA device; 0 for the CPU

    std::string name() const { return kind == PROJNTK_DEVICE_CPU ? "cpu" : "cuda:" + std::to_string(ordinal); }
};

// Fails with INVALID_ARGUMENT for an unknown kind, a negative code, or an ordinal given with the CPU.
inline DeviceCode decode_device(int32_t code) {
    const DeviceCode d{code & ((1 << PROJNTK_DEVICE_ORDINAL_SHIFT) - 1), code >> PROJNTK_DEVICE_ORDINAL_SHIFT};
    require(code >= 0 && (d.kind == PROJNTK_DEVICE_CPU || d.kind == PROJNTK_DEVICE_CUDA),
            "unknown device " + std::to_string(code) + " (0 cpu, 1 cuda, with a CUDA ordinal in the bits above the lowest " +
                std::to_string(PROJNTK_DEVICE_ORDINAL_SHIFT) + ")");
    require(d.kind == PROJNTK_DEVICE_CUDA || d.ordinal == 0,
            "device cpu takes no GPU ordinal, got ordinal " + std::to_string(d.ordinal));
    return d;
}

}  // namespace projntk
