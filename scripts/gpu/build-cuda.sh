#!/usr/bin/env bash
# On the GPU machine: unpacks what scripts/gpu/pack.sh packed into /tmp/g and builds
# libggml-cuda.so for this GPU's architecture from node-llama-cpp's own ggml source.
# Usage (from the repository root there): bash .gpu/f/build-cuda.sh [cuda-arch, default 90-real]
set -euo pipefail
R=$PWD; arch=${1:-90-real}
mkdir -p /tmp/g && cd /tmp/g
xz -dc "$R/.gpu/a/node.xz" > node && chmod +x node
tar -xJf "$R/.gpu/a/modules.tar.xz"
cp "$R"/.gpu/a/*.mjs "$R"/.gpu/a/*.js .
mkdir -p src && tar -xJf "$R/.gpu/f/ggml.tar.xz" -C src
t0=$(date +%s)
cmake -S src/ggml -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
  -DGGML_CUDA=ON -DGGML_BACKEND_DL=ON -DGGML_NATIVE=OFF -DGGML_CPU=OFF \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF > cmake.log 2>&1 || { tail -40 cmake.log; exit 1; }
cmake --build build --target ggml-cuda -j "$(nproc)" > build.log 2>&1 || { tail -40 build.log; exit 1; }
echo "libggml-cuda.so built in $(( $(date +%s) - t0 )) s"
L=$PWD/node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda
cp build/bin/libggml-cuda.so "$L/"
# Our build names its dependency by the versioned soname; node-llama-cpp's file has none.
ln -sf libggml-base.so "$L/libggml-base.so.0"
echo "export LD_LIBRARY_PATH=$L:/usr/local/cuda/targets/x86_64-linux/lib:\$LD_LIBRARY_PATH" > env.sh
