#!/usr/bin/env python3
"""One line on what the PyTorch reference runs on: CPU model, torch's ATen CPU capability, and the OpenBLAS core its
BLAS/LAPACK calls dispatch to (OPENBLAS_CORETYPE forces one; Debian's OpenBLAS 0.3.21 picks Haswell, i.e. AVX2, on
AMD family 25/26 anyway). Import `describe()` after torch, or run this file (optional argument: torch threads) to print it.
"""
import ctypes
import os


def cpu_model():
    name = family = model = None
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    if name:
                        break
                    continue
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and name is None:
                    name = value
                elif key == "cpu family" and family is None:
                    family = value
                elif key == "model" and model is None:
                    model = value
                elif key == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    if name is None:
        return "unknown", flags
    return (f"{name} (family {family}, model {model})" if family and model else name), flags


def openblas_core():
    """The OpenBLAS core name of the libopenblas loaded in this process (None when torch does not use OpenBLAS)."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line and ".so" in line})
    except OSError:
        return None
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


AVX512_CORES = {"SkylakeX", "Cooperlake", "SapphireRapids"}
AVX2_CORES = {"Haswell", "Zen", "Excavator"}


def describe():
    import torch
    model, flags = cpu_model()
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability") else None
    if cap is None:
        cap = next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l), "?")
    torch.ones(4, 4) @ torch.ones(4, 4)  # loads the BLAS library
    core = openblas_core()
    forced = os.environ.get("OPENBLAS_CORETYPE")
    aten = "avx512" if cap.lower().startswith("avx512") else "avx2" if "avx2" in cap.lower() else cap.lower()
    blas = "avx512" if core in AVX512_CORES else "avx2" if core in AVX2_CORES else (core or "n/a").lower()
    line = (f"cpu: {model}, {os.cpu_count()} logical processors | torch {torch.__version__}, {torch.get_num_threads()} threads"
            f" | ATen CPU capability: {cap} ({aten}) | OpenBLAS core: {core or 'n/a'} ({blas})"
            + (f", forced by OPENBLAS_CORETYPE={forced}" if forced else "")
            + (f", OPENBLAS_L2_SIZE={os.environ['OPENBLAS_L2_SIZE']}" if os.environ.get("OPENBLAS_L2_SIZE") else ""))
    if "avx512f" in flags and "avx512" not in (aten, blas):
        line += " | reference runs AVX2 kernels only, on an AVX-512 CPU"
    return line


if __name__ == "__main__":
    import sys
    import torch
    if len(sys.argv) > 1:
        torch.set_num_threads(int(sys.argv[1]))
    print(describe())
