// Each test class has its own Redis, but CeleryClient.Current (which generated proxies use) is one
// per process: the classes run one after the other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
