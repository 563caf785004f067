"""The demo workspace's recordings and the synthetic speech-like audio tests and benchmarks generate; outside the library."""
