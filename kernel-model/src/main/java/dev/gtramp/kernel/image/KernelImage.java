package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The text of a kernel: its BTF functions, their prototypes and addresses, and for each a
 * traceability decision ({@link TraceDecision}). Immutable and shareable between any number of
 * {@link dev.gtramp.kernel.Kernel kernels}.
 *
 * <p>Lookups by name are O(1) (a hash map), by ip O(log n) (binary search over the sorted addresses).
 * Glob patterns ({@link Glob}) with a literal prefix scan only the names with that prefix, which a
 * sorted name index finds by binary search.
 *
 * <p>Sources: {@link #linux618()} (the embedded snapshot of a real Linux 6.18 x86-64 kernel),
 * {@link #fromFiles} (raw BTF and kallsyms, e.g. copies of {@code /sys/kernel/btf/vmlinux} and
 * {@code /proc/kallsyms}), {@link #fromRunningKernel()} and {@link #synthetic(int, long)}.
 */
public final class KernelImage {
    /** The classpath resource of the embedded Linux 6.18 snapshot. */
    public static final String LINUX_618_RESOURCE = "/dev/gtramp/kernel/image/linux-6.18-x86_64.gtimg.xz";

    private final String name;
    private final SourceCounts sourceCounts;
    private final List<ImageFunction> functions;
    private final List<ImageFunction> traceable;
    private final Map<String, ImageFunction> byName;
    /** Addresses of the functions that have one, ascending (unsigned); {@link #ipOwners} in step. */
    private final long[] sortedIps;
    private final ImageFunction[] ipOwners;
    /** Functions whose address another function with a lower index also has. */
    private final int aliasCount;
    /** Traceable functions sorted by name, for prefix scans. */
    private final ImageFunction[] traceableByName;

    /**
     * Counts taken from the source listings that are not derivable from the functions: the
     * kallsyms text symbols, {@code __pfx_} labels, and non-label text symbols.
     */
    public record SourceCounts(int kallsymsTextSymbols, int kallsymsPaddingLabels, int kallsymsFunctions) {
    }

    KernelImage(String name, SourceCounts sourceCounts, List<ImageFunction> functions) {
        this.name = Objects.requireNonNull(name, "name");
        this.sourceCounts = Objects.requireNonNull(sourceCounts, "sourceCounts");
        this.functions = List.copyOf(functions);
        Map<String, ImageFunction> names = new HashMap<>(functions.size() * 2);
        List<ImageFunction> withIp = new ArrayList<>(functions.size());
        List<ImageFunction> tr = new ArrayList<>(functions.size());
        for (int i = 0; i < this.functions.size(); i++) {
            ImageFunction f = this.functions.get(i);
            if (f.index() != i) {
                throw new IllegalArgumentException("function " + f.name() + " has index " + f.index() + ", expected " + i);
            }
            if (names.put(f.name(), f) != null) {
                throw new KernelException(Errno.EEXIST, "duplicate function name " + f.name() + " in image " + name);
            }
            if (f.hasAddress()) {
                withIp.add(f);
            }
            if (f.isTraceable()) {
                tr.add(f);
            }
        }
        // Aliases (several names for one address, as the linker's symbol aliases give) sort by index.
        withIp.sort((a, b) -> a.ip() != b.ip() ? Long.compareUnsigned(a.ip(), b.ip()) : Integer.compare(a.index(), b.index()));
        this.sortedIps = new long[withIp.size()];
        this.ipOwners = withIp.toArray(new ImageFunction[0]);
        int aliased = 0;
        for (int i = 0; i < ipOwners.length; i++) {
            sortedIps[i] = ipOwners[i].ip();
            if (i > 0 && sortedIps[i] == sortedIps[i - 1]) {
                aliased++;
            }
        }
        this.aliasCount = aliased;
        this.byName = names;
        this.traceable = Collections.unmodifiableList(tr);
        this.traceableByName = tr.toArray(new ImageFunction[0]);
        Arrays.sort(traceableByName, Comparator.comparing(ImageFunction::name));
    }

    /** The embedded snapshot of a real Linux 6.18.44 x86-64 kernel (see {@link ImageSnapshot}). */
    public static KernelImage linux618() {
        return EmbeddedLinux618.IMAGE;
    }

    /** Holder for the embedded image: loaded once, on first use, and immutable thereafter. */
    private static final class EmbeddedLinux618 {
        static final KernelImage IMAGE = load();

        private static KernelImage load() {
            try (InputStream in = KernelImage.class.getResourceAsStream(LINUX_618_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + LINUX_618_RESOURCE);
                }
                return ImageSnapshot.read(in);
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + LINUX_618_RESOURCE, e);
            }
        }
    }

    /**
     * Builds an image from a raw BTF blob and a kallsyms listing; either file may be
     * xz-compressed.
     */
    public static KernelImage fromFiles(String name, Path btf, Path kallsyms) throws IOException {
        return ImageBuilder.fromFiles(name, btf, kallsyms);
    }

    /**
     * Builds an image from the running machine's {@code /sys/kernel/btf/vmlinux} and
     * {@code /proc/kallsyms}. Addresses read as zero unless the process may see them
     * ({@code kptr_restrict}); such an image has no traceable functions.
     */
    public static KernelImage fromRunningKernel() throws IOException {
        return ImageBuilder.fromFiles("running kernel", Path.of("/sys/kernel/btf/vmlinux"), Path.of("/proc/kallsyms"));
    }

    /**
     * A reproducible synthetic image of {@code n} traceable functions whose argument-register
     * counts follow the histogram of {@link #linux618()}'s traceable functions.
     *
     * @param n    1 to {@link SyntheticImage#MAX_FUNCTIONS}
     * @param seed the same seed gives the same image
     */
    public static KernelImage synthetic(int n, long seed) {
        return SyntheticImage.generate(n, seed);
    }

    /**
     * {@link #synthetic(int, long)} whose first {@code shortPadded} functions have only 8 bytes of
     * padding before them, too few for an instruction of the padding ({@code PaddingInsn}): the
     * functions for which the padding md index falls back to a per-function trampoline. The Linux
     * 6.18 image has none (every traceable address there has 16 bytes), so this is how that fallback
     * is exercised. Names and prototypes are those of {@code synthetic(n, seed)}.
     *
     * @param shortPadded 0 to {@code n}
     */
    public static KernelImage synthetic(int n, long seed, int shortPadded) {
        return SyntheticImage.generate(n, seed, shortPadded);
    }

    /** A name for the image, such as {@code "linux-6.18.44-x86_64"}. */
    public String name() {
        return name;
    }

    public SourceCounts sourceCounts() {
        return sourceCounts;
    }

    /** Every BTF function, in BTF id order for a real image. */
    public List<ImageFunction> functions() {
        return functions;
    }

    /** The traceable functions, in {@link #functions()} order. */
    public List<ImageFunction> traceable() {
        return traceable;
    }

    /**
     * Addresses of the functions that have one, ascending, an aliased address once per name; the
     * returned array is a copy.
     */
    public long[] addresses() {
        return sortedIps.clone();
    }

    /** The function with this name, if the image has it. */
    public Optional<ImageFunction> function(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * The function with this name.
     *
     * @throws KernelException ENOENT naming the function if the image has none by that name
     */
    public ImageFunction require(String name) {
        ImageFunction f = byName.get(name);
        if (f == null) {
            throw new KernelException(Errno.ENOENT, "no function " + name + " in image " + this.name);
        }
        return f;
    }

    /**
     * The function whose entry address is exactly {@code ip}, if any. When several names alias one
     * address, the one with the lowest index (the first in BTF order).
     */
    public Optional<ImageFunction> functionAt(long ip) {
        int i = indexOfIp(ip);
        if (i < 0) {
            return Optional.empty();
        }
        while (i > 0 && sortedIps[i - 1] == ip) {
            i--;
        }
        return Optional.of(ipOwners[i]);
    }

    /** Every function whose entry address is {@code ip}: one, or several aliases; empty if none. */
    public List<ImageFunction> functionsAt(long ip) {
        int i = indexOfIp(ip);
        if (i < 0) {
            return List.of();
        }
        int from = i;
        while (from > 0 && sortedIps[from - 1] == ip) {
            from--;
        }
        int to = i + 1;
        while (to < sortedIps.length && sortedIps[to] == ip) {
            to++;
        }
        return List.of(Arrays.copyOfRange(ipOwners, from, to));
    }

    /**
     * How many functions share their address with a function of lower index: aliases, which in a
     * kernel share one entry site and one body.
     */
    public int aliasCount() {
        return aliasCount;
    }

    /** Index of {@code ip} in the sorted addresses, or a negative value. */
    int indexOfIp(long ip) {
        int lo = 0;
        int hi = sortedIps.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(sortedIps[mid], ip);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    /**
     * The traceable functions whose names match {@code pattern}, sorted by name.
     *
     * @throws KernelException EINVAL for an empty or malformed pattern
     */
    public List<ImageFunction> match(String pattern) {
        return match(pattern, Set.of());
    }

    /**
     * The traceable functions whose names match {@code pattern} and no pattern of {@code deny},
     * sorted by name, as a filter with a {@code !}-list would select them.
     *
     * @throws KernelException EINVAL for an empty or malformed pattern, naming it
     */
    public List<ImageFunction> match(String pattern, Collection<String> deny) {
        Glob glob = Glob.compile(pattern);
        List<Glob> denied = new ArrayList<>(deny.size());
        for (String d : deny) {
            denied.add(Glob.compile(d));
        }
        String prefix = glob.literalPrefix();
        int from = firstWithPrefix(prefix);
        List<ImageFunction> out = new ArrayList<>();
        for (int i = from; i < traceableByName.length && traceableByName[i].name().startsWith(prefix); i++) {
            ImageFunction f = traceableByName[i];
            if (glob.matches(f.name()) && denied.stream().noneMatch(d -> d.matches(f.name()))) {
                out.add(f);
            }
        }
        return out;
    }

    private int firstWithPrefix(String prefix) {
        int lo = 0;
        int hi = traceableByName.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (traceableByName[mid].name().compareTo(prefix) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Counts and histograms of the image, as {@code gtramp image} prints them. */
    public ImageSummary summary() {
        return ImageSummary.of(this);
    }

    @Override
    public String toString() {
        return "KernelImage[" + name + ", " + functions.size() + " functions, " + traceable.size() + " traceable]";
    }
}
