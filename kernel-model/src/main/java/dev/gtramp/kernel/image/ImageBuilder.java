package dev.gtramp.kernel.image;

import dev.gtramp.kernel.btf.Btf;
import dev.gtramp.kernel.btf.BtfReader;
import dev.gtramp.kernel.btf.FunctionPrototype;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins BTF and kallsyms into a {@link KernelImage}: each BTF {@code FUNC} gets the address
 * {@code kallsyms_lookup_name} would give it (the first text symbol of that name), the padding its
 * {@code __pfx_} label marks, and a {@link TraceDecision}.
 */
final class ImageBuilder {
    private ImageBuilder() {
    }

    static KernelImage fromFiles(String name, Path btfPath, Path kallsymsPath) throws IOException {
        Btf btf = BtfReader.read(btfPath);
        Kallsyms ks;
        try (InputStream in = openMaybeXz(kallsymsPath)) {
            ks = Kallsyms.read(in);
        }
        return build(name, btf.functions(), ks);
    }

    static KernelImage build(String name, List<FunctionPrototype> prototypes, Kallsyms ks) {
        TraceabilityRules rules = TraceabilityRules.of(ks);
        List<ImageFunction> functions = new ArrayList<>(prototypes.size());
        for (FunctionPrototype p : prototypes) {
            List<Long> addresses = ks.addresses(p.name());
            long ip = addresses.isEmpty() ? 0 : addresses.get(0);
            int padding = ip == 0 ? 0 : ks.paddingBefore(ip, p.name());
            TraceDecision d = rules.decide(p, ip, padding);
            functions.add(new ImageFunction(functions.size(), p, ip, padding, addresses.size(), d));
        }
        KernelImage.SourceCounts counts = new KernelImage.SourceCounts(
                ks.textSymbols(), ks.paddingLabels(), ks.functions().size());
        return new KernelImage(name, counts, functions);
    }

    /** Opens a file, decompressing it if it starts with the xz magic {@code FD 37 7A 58 5A 00}. */
    static InputStream openMaybeXz(Path path) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        in.mark(6);
        byte[] magic = in.readNBytes(6);
        in.reset();
        boolean xz = magic.length == 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z'
                && magic[3] == 'X' && magic[4] == 'Z' && magic[5] == 0;
        return xz ? new BufferedInputStream(new XZInputStream(in), 1 << 16) : in;
    }
}
