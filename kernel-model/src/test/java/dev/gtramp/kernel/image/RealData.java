package dev.gtramp.kernel.image;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The real Linux 6.18 BTF and kallsyms the tests read, committed as test resources. */
final class RealData {
    static final Path BTF = resource("/linux-6.18-x86_64/vmlinux.btf.xz");
    static final Path KALLSYMS = resource("/linux-6.18-x86_64/kallsyms-text.txt.xz");

    private RealData() {
    }

    private static Path resource(String name) {
        try {
            var url = RealData.class.getResource(name);
            if (url == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
