package dev.gtramp.study;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.trampoline.Trampolines;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The functions a study attaches to: those a pattern selects ({@code --match}, less {@code --deny},
 * the kernel's {@code glob_match}), one name per address (an alias of an address already chosen is
 * left out, as one patch site serves both), in a seeded random order, so that the first {@code n}
 * are a sample of the whole selection and every size is a prefix of the next. For each program kind
 * the functions whose attach checks refuse an empty program of that kind are left out, as
 * bpftrace and {@code opts.skip_invalid} leave them out (fmod_ret only attaches to error-injection
 * points).
 */
public final class StudyTargets {
    private final String image;
    /** Image indices in sample order: traceable, one per address, the selection's. */
    private final int[] order;
    private final Map<BpfTrampKind, boolean[]> accepted;

    private StudyTargets(String image, int[] order, Map<BpfTrampKind, boolean[]> accepted) {
        this.image = image;
        this.order = order;
        this.accepted = accepted;
    }

    /**
     * Selects from {@code image}.
     *
     * @throws KernelException EINVAL naming the pattern if it selects no attachable function
     */
    public static StudyTargets select(KernelImage image, String match, List<String> deny, List<BpfTrampKind> kinds,
                                      long seed) {
        List<ImageFunction> matched = image.match(match == null ? "*" : match, deny == null ? List.of() : deny);
        Map<BpfTrampKind, boolean[]> accepted = new EnumMap<>(BpfTrampKind.class);
        List<Integer> chosen = new ArrayList<>();
        try (Kernel kernel = Kernel.boot(image)) {
            Trampolines t = Trampolines.of(kernel);
            Map<BpfTrampKind, BpfProg> probes = new EnumMap<>(BpfTrampKind.class);
            for (BpfTrampKind k : kinds) {
                probes.put(k, BpfProg.builder(kernel, "study_probe", Kinds.regular(k)).body(c -> 0).load());
                accepted.put(k, new boolean[image.functions().size()]);
            }
            Set<Long> addresses = new HashSet<>();
            for (ImageFunction img : matched) {
                KernelFunction f = kernel.function(img);
                if (!f.isTraceable() || !addresses.add(f.ip())) {
                    continue;
                }
                boolean any = false;
                for (BpfTrampKind k : kinds) {
                    boolean ok = t.attachRefusal(probes.get(k), f).isEmpty();
                    accepted.get(k)[img.index()] = ok;
                    any |= ok;
                }
                if (any) {
                    chosen.add(img.index());
                }
            }
            probes.values().forEach(BpfProg::close);
        }
        if (chosen.isEmpty()) {
            throw new KernelException(Errno.EINVAL, "--match " + (match == null ? "*" : match)
                    + (deny == null || deny.isEmpty() ? "" : " --deny " + String.join(",", deny))
                    + " selects no attachable function in " + image.name());
        }
        Collections.shuffle(chosen, new Random(seed));
        return new StudyTargets(image.name(), chosen.stream().mapToInt(Integer::intValue).toArray(), accepted);
    }

    /** How many functions the selection offers (accepted for at least one kind). */
    public int size() {
        return order.length;
    }

    /**
     * The number of functions a size asks for: a number, or {@code all}.
     *
     * @throws KernelException EINVAL for a size that is not a positive number, or ERANGE for one
     *         beyond the selection, naming it and the selection's size
     */
    public int resolve(String size) {
        if (size.equalsIgnoreCase("all")) {
            return order.length;
        }
        int n;
        try {
            n = Integer.parseInt(size.replace(",", "").replace("_", "").trim());
        } catch (NumberFormatException e) {
            throw new KernelException(Errno.EINVAL, "size '" + size + "' is neither a number nor 'all'");
        }
        if (n < 1) {
            throw new KernelException(Errno.EINVAL, "size " + n + " must be at least 1");
        }
        if (n > order.length) {
            throw new KernelException(Errno.ERANGE, "size " + n + " exceeds the " + order.length
                    + " attachable functions the selection offers in " + image + " (use 'all' or a smaller size)");
        }
        return n;
    }

    /** The first {@code n} functions of the sample that accept a program of {@code kind}, in sample order. */
    public List<KernelFunction> first(Kernel kernel, int n, BpfTrampKind kind) {
        boolean[] ok = accepted.get(kind);
        List<KernelFunction> out = new ArrayList<>(n);
        List<ImageFunction> all = kernel.image().functions();
        for (int i = 0; i < n; i++) {
            if (ok[order[i]]) {
                out.add(kernel.function(all.get(order[i])));
            }
        }
        return out;
    }
}
