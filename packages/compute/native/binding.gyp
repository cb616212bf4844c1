{
  "targets": [
    {
      "target_name": "lth_sgemm",
      "sources": ["sgemm.cc", "chain.cc", "mlp.cc", "convnet.cc", "convnet_step.cc", "convnet_forward.cc", "winograd.cc", "normalize.cc", "pool.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
