import PixeltableCLI

#if canImport(Glibc)
import Glibc
#endif

exit(PxtCommandLine.main(Array(CommandLine.arguments.dropFirst())))
