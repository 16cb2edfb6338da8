package dev.gtramp.kernel.image;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Generates the embedded image snapshot from raw BTF and kallsyms (either may be xz-compressed):
 * the source of {@link KernelImage#LINUX_618_RESOURCE}, regenerated with
 * {@code bin/gtramp image snapshot --btf ... --kallsyms ... --out ...}. A build test regenerates it
 * from the committed test data and fails if the committed snapshot differs.
 */
public final class SnapshotGenerator {
    private SnapshotGenerator() {
    }

    /** The name the embedded Linux 6.18 image carries. */
    public static final String LINUX_618_NAME = "linux-6.18.44-x86_64";

    /** Builds the image and writes its snapshot to {@code out} atomically; returns the image. */
    public static KernelImage generate(String name, Path btf, Path kallsyms, Path out) throws IOException {
        KernelImage image = KernelImage.fromFiles(name, btf, kallsyms);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, out.getFileName().toString(), ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp)) {
            ImageSnapshot.write(image, os);
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return image;
    }

    /** {@code SnapshotGenerator BTF KALLSYMS OUT [NAME]}. */
    public static void main(String[] args) throws IOException {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: SnapshotGenerator BTF KALLSYMS OUT [NAME]");
            System.exit(2);
        }
        String name = args.length == 4 ? args[3] : LINUX_618_NAME;
        KernelImage image = generate(name, Path.of(args[0]), Path.of(args[1]), Path.of(args[2]));
        System.out.println("wrote " + args[2] + ": " + image);
    }
}
