{
  "targets": [
    {
      "target_name": "sock_diag",
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "sources": ["sock_diag.c"] }, { "type": "none" }]
      ]
    }
  ]
}
