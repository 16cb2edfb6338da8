package dev.gtramp.kernel.btf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.tukaani.xz.XZInputStream;

/**
 * The real BTF of a Linux 6.18.44 x86-64 kernel ({@code /sys/kernel/btf/vmlinux}), from the test
 * classpath, decompressed and parsed once per test JVM.
 */
final class RealBlob {
    static final String RESOURCE = "/linux-6.18-x86_64/vmlinux.btf.xz";
    /** sha256 of the decompressed blob, as the resource's README records it. */
    static final String SHA256 = "9bca12a42c91857d1492472bb3c361b76f7d3a0ab4614fa8c4760c3b5c684c1d";

    private RealBlob() {
    }

    /** A fresh copy of the raw (decompressed) blob. */
    static byte[] raw() {
        return Holder.RAW.clone();
    }

    /** The xz-compressed resource as stored. */
    static byte[] compressed() {
        try (InputStream in = RealBlob.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + RESOURCE);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The parsed blob, shared: {@link Btf} is immutable. */
    static Btf btf() {
        return Holder.BTF;
    }

    private static final class Holder {
        static final byte[] RAW = load();
        static final Btf BTF = BtfReader.read(RAW);

        private static byte[] load() {
            try (InputStream in = new XZInputStream(RealBlob.class.getResourceAsStream(RESOURCE))) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
