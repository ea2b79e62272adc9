import Pixeltable
import PixeltableCLI

#if canImport(Glibc)
import Glibc
#endif

// Every process may end up a server (the daemon, `pxt serve`); tuning costs nothing for the others.
Catalog.tuneAllocatorForServers()
exit(PxtCommandLine.main(Array(CommandLine.arguments.dropFirst())))
