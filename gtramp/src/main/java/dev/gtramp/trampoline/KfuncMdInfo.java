package dev.gtramp.trampoline;

import dev.gtramp.kernel.bpf.BpfTrampKind;

import java.util.ArrayList;
import java.util.List;

/**
 * What a function's {@code kfunc_md} holds.
 *
 * @param function           the traced function
 * @param users              links using the md ({@code md->users})
 * @param nrArgs             {@code md->nr_args}
 * @param originCall         {@code md->bpf_origin_call}
 * @param programs           the programs in the order {@code bpf_global_caller} runs them, each as
 *                           {@code "fentry:name"}, {@code "fmod_ret:name"} or {@code "fexit:name"}
 * @param cookies            each program's cookie for this function, in the same order
 * @param servedByTrampoline whether the function's trampoline serves it ({@code md->tramp}) instead
 *                           of the global caller
 */
public record KfuncMdInfo(String function, int users, int nrArgs, boolean originCall, List<String> programs,
                          List<Long> cookies, boolean servedByTrampoline) {
    static KfuncMdInfo of(KfuncMd md) {
        List<String> progs = new ArrayList<>();
        List<Long> cookies = new ArrayList<>();
        for (BpfTrampKind kind : new BpfTrampKind[] {BpfTrampKind.FENTRY, BpfTrampKind.MODIFY_RETURN, BpfTrampKind.FEXIT}) {
            String prefix = kind == BpfTrampKind.FENTRY ? "fentry:" : kind == BpfTrampKind.FEXIT ? "fexit:" : "fmod_ret:";
            for (KfuncMdProg p : md.progs(kind)) {
                progs.add(prefix + p.prog.name());
                cookies.add(p.cookie);
            }
        }
        return new KfuncMdInfo(md.function.name(), md.users, md.nrArgs, md.originCall(), List.copyOf(progs),
                List.copyOf(cookies), md.tramp != null);
    }
}
