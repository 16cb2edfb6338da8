package dev.gtramp.study.designs;

import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.study.Kinds;
import dev.gtramp.study.StudyDesign;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TracingMultiOpts;

import java.util.List;

/**
 * A design with tracing multi links: one program of the multi attach type, attached to every
 * function by one link ({@code bpf_program__attach_tracing_multi} with {@code opts.ids}, the BTF
 * ids libbpf resolves), detached by closing it.
 */
abstract class MultiLinkDesign implements StudyDesign {

    @Override
    public Loaded load(Trampolines t, BpfTrampKind kind, List<KernelFunction> functions) {
        BpfProg prog = BpfProg.builder(t.kernel(), "study_" + kind.name().toLowerCase() + "_multi",
                Kinds.regular(kind).multi()).body(c -> 0).load();
        long[] ids = functions.stream().mapToLong(f -> f.imageFunction().index()).toArray();
        return new Loaded() {
            @Override
            public int programs() {
                return 1;
            }

            @Override
            public Attachment attach() {
                BpfTracingMultiLink link;
                try {
                    link = t.attachMulti(prog, null, TracingMultiOpts.create().ids(ids));
                } catch (RuntimeException e) {
                    prog.close();
                    throw e;
                }
                return new Attachment() {
                    @Override
                    public int links() {
                        return 1;
                    }

                    @Override
                    public List<BpfProg> programs() {
                        return List.of(prog);
                    }

                    @Override
                    public void close() {
                        link.close();
                        prog.close();
                    }
                };
            }

            @Override
            public void unload() {
                prog.close();
            }
        };
    }
}
