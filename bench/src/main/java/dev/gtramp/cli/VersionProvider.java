package dev.gtramp.cli;

import picocli.CommandLine;

/** Reports the version from the jar manifest, or "development" when run from classes. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = GtrampCommand.class.getPackage().getImplementationVersion();
        return new String[] {"gtramp " + (v == null ? "development" : v),
            "JVM " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
