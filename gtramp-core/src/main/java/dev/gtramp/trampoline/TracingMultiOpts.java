package dev.gtramp.trampoline;

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

    /** Targets by BTF id ({@code opts.ids}). */
    public TracingMultiOpts ids(long... ids) {
        this.ids = ids.clone();
        return this;
    }

    /** Targets by name; resolved as libbpf resolves names to BTF ids. */
    public TracingMultiOpts names(List<String> names) {
        this.names = List.copyOf(names);
        return this;
    }

    /** {@code opts.cookies}: one per target, in target order. */
    public TracingMultiOpts cookies(long... cookies) {
        this.cookies = cookies.clone();
        return this;
    }

    /** {@code opts.cnt}; by default the number of targets given. */
    public TracingMultiOpts cnt(int cnt) {
        this.cnt = cnt;
        return this;
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
