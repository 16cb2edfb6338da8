package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.btf.ArgClass;
import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.btf.Linkage;
import dev.gtramp.kernel.btf.Param;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates images beyond the size of a real kernel for scaling studies. Every function is traceable
 * and BPF-supported; its argument-register count is drawn from the histogram of the embedded Linux
 * 6.18 image's traceable, supported functions, so the mix of "global caller can serve it" (at most 6
 * registers) and "needs stack arguments" matches the real kernel. Names take the prefixes of real
 * subsystems ({@code ksys_}, {@code tcp_}, ...) followed by a number, so glob patterns select
 * realistic fractions. Functions are laid out from {@code 0xffffffff81000000}, each preceded by 16
 * bytes of padding and 16-byte aligned, as with {@code CONFIG_FUNCTION_ALIGNMENT_16B}.
 *
 * <p>The same {@code (n, seed)} always gives the same image.
 */
final class SyntheticImage {
    /** The largest image this generator makes. */
    static final int MAX_FUNCTIONS = 1_000_000;

    private static final long TEXT_START = 0xffffffff81000000L;
    private static final int PADDING = 16;
    /** The padding of a short-padded function: room for a few NOPs, not for a 5-byte instruction and its alignment. */
    static final int SHORT_PADDING = 8;
    private static final String[] PREFIXES = {
        "ksys_", "tcp_", "udp_", "ip_", "sk_", "vfs_", "ext4_", "btrfs_", "mm_", "page_", "sched_", "irq_",
        "bpf_", "kmem_", "blk_", "nvme_", "usb_", "drm_", "security_", "cgroup_", "rcu_", "xfs_", "net_", "dev_",
    };

    private SyntheticImage() {
    }

    static KernelImage generate(int n, long seed) {
        return generate(n, seed, 0);
    }

    /**
     * As {@link #generate(int, long)}, except that the first {@code shortPadded} functions have
     * {@link #SHORT_PADDING} bytes of padding before them; the rest of the image is laid out the same
     * way from there, and every function keeps the prototype and name the seed gives it.
     */
    static KernelImage generate(int n, long seed, int shortPadded) {
        if (shortPadded < 0 || shortPadded > n) {
            throw new KernelException(Errno.EINVAL, "short-padded functions " + shortPadded + " outside [0, " + n + "]");
        }
        if (n < 1 || n > MAX_FUNCTIONS) {
            throw new KernelException(Errno.EINVAL, "synthetic image size " + n + " outside [1, " + MAX_FUNCTIONS + "]");
        }
        Map<Integer, Integer> histogram = KernelImage.linux618().summary().argRegsHistogram();
        int maxRegs = histogram.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        long[] cumulative = new long[maxRegs + 1];
        long total = 0;
        for (int r = 0; r <= maxRegs; r++) {
            total += histogram.getOrDefault(r, 0);
            cumulative[r] = total;
        }
        List<List<Param>> paramsByRegs = new ArrayList<>(maxRegs + 1);
        for (int r = 0; r <= maxRegs; r++) {
            List<Param> ps = new ArrayList<>(r);
            for (int i = 0; i < r; i++) {
                ps.add(new Param("a" + i, "u64", 8, ArgClass.INT));
            }
            paramsByRegs.add(List.copyOf(ps));
        }
        SplittableRandom random = new SplittableRandom(seed);
        int digits = Integer.toString(n - 1).length();
        List<ImageFunction> functions = new ArrayList<>(n);
        long ip = TEXT_START + (shortPadded > 0 ? SHORT_PADDING : PADDING);
        for (int i = 0; i < n; i++) {
            int padding = i < shortPadded ? SHORT_PADDING : PADDING;
            long draw = random.nextLong(total);
            int regs = 0;
            while (cumulative[regs] <= draw) {
                regs++;
            }
            String name = PREFIXES[random.nextInt(PREFIXES.length)] + pad(i, digits);
            FunctionPrototype p = new FunctionPrototype(name, Linkage.GLOBAL, "long", 8, ArgClass.INT,
                    paramsByRegs.get(regs), regs, null);
            functions.add(new ImageFunction(i, p, ip, padding, 1, TraceDecision.TRACEABLE));
            long bodySize = 16L * (1 + random.nextInt(64));
            ip += bodySize + (i + 1 < shortPadded ? SHORT_PADDING : PADDING);
        }
        KernelImage.SourceCounts counts = new KernelImage.SourceCounts(2 * n, n, n);
        String name = "synthetic-" + n + "-seed" + seed + (shortPadded > 0 ? "-short" + shortPadded : "");
        return new KernelImage(name, counts, functions);
    }

    private static String pad(int i, int digits) {
        String s = Integer.toString(i);
        return "0".repeat(digits - s.length()) + s;
    }
}
