{
  "targets": [
    {
      "target_name": "lth_sgemm",
      "sources": ["sgemm.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O2"]
    }
  ]
}
