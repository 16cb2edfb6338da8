package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.util.List;

/**
 * {@code struct bpf_tracing_multi_opts}: the targets of a tracing multi link when no pattern is
 * given, by BTF id ({@link #ids}, the image's function index) or by name ({@link #names}), with an
 * optional cookie per target, and the count ({@code cnt}) the kernel is told.
 */
public final class TracingMultiOpts {
    long[] ids;
    List<String> names;
    long[] cookies;
    int cnt = -1;
    boolean skipInvalid;

    public static TracingMultiOpts create() {
        return new TracingMultiOpts();
    }

    /**
     * Targets by BTF id ({@code opts.ids}).
     *
     * @throws KernelException EINVAL for null, or if {@link #names} were given: one way of naming
     *         the targets per link, as libbpf refuses a pattern with ids or names
     */
    public TracingMultiOpts ids(long... ids) {
        if (ids == null) {
            throw invalid("opts.ids is null");
        }
        if (names != null) {
            throw invalid("opts.ids and opts.names both given: name the targets one way");
        }
        this.ids = ids.clone();
        return this;
    }

    /**
     * Targets by name; resolved as libbpf resolves names to BTF ids.
     *
     * @throws KernelException EINVAL for a null list or a null name (naming its index), or if
     *         {@link #ids} were given
     */
    public TracingMultiOpts names(List<String> names) {
        if (names == null) {
            throw invalid("opts.names is null");
        }
        if (ids != null) {
            throw invalid("opts.ids and opts.names both given: name the targets one way");
        }
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i) == null) {
                throw invalid("opts.names[" + i + "] is null");
            }
        }
        this.names = List.copyOf(names);
        return this;
    }

    /**
     * {@code opts.cookies}: one per target, in target order.
     *
     * @throws KernelException EINVAL for null
     */
    public TracingMultiOpts cookies(long... cookies) {
        if (cookies == null) {
            throw invalid("opts.cookies is null");
        }
        this.cookies = cookies.clone();
        return this;
    }

    /**
     * {@code opts.cnt}; by default the number of targets given.
     *
     * @throws KernelException EINVAL for a negative count: the kernel's {@code cnt} is a {@code u32}
     */
    public TracingMultiOpts cnt(int cnt) {
        if (cnt < 0) {
            throw invalid("opts.cnt " + cnt + " is negative (cnt is a u32)");
        }
        this.cnt = cnt;
        return this;
    }

    private static KernelException invalid(String why) {
        return new KernelException(Errno.EINVAL, why);
    }

    /**
     * {@code opts.skip_invalid} (libbpf's option in the tracing multi-link series, what bpftrace does
     * for a wildcard): targets the attach checks refuse (no patch site, a prototype the trampoline
     * cannot serve, more than {@code MAX_BPF_FUNC_ARGS} argument registers, a part mismatch with
     * the first target, fmod_ret on a function without an error-injection point) are left out, with
     * their cookies, instead of failing the whole link; the link lists them in
     * {@link BpfTracingMultiLink#skipped()}. Misuse (a program of another kernel, a target given
     * twice, an unknown name) still fails. Off by default: the kernel refuses the link.
     */
    public TracingMultiOpts skipInvalid(boolean skip) {
        this.skipInvalid = skip;
        return this;
    }

    boolean hasTargets() {
        return ids != null || names != null;
    }
}
