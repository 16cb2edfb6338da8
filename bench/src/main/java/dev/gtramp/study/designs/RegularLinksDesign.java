package dev.gtramp.study.designs;

import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.study.Kinds;
import dev.gtramp.study.StudyDesign;
import dev.gtramp.trampoline.BpfTracingLink;
import dev.gtramp.trampoline.Trampolines;

import java.util.ArrayList;
import java.util.List;

/**
 * A design without multi links, as a tool attaches many functions on a kernel without them
 * (bpftrace's {@code fentry:vmlinux:ksys_*} before tracing_multi): one program loaded per function,
 * since a regular fentry program is bound to its target at load, and one
 * {@code bpf_tracing_prog_attach} link each, detached one by one.
 */
abstract class RegularLinksDesign implements StudyDesign {

    @Override
    public Loaded load(Trampolines t, BpfTrampKind kind, List<KernelFunction> functions) {
        BpfAttachType type = Kinds.regular(kind);
        List<BpfProg> progs = new ArrayList<>(functions.size());
        try {
            for (KernelFunction f : functions) {
                progs.add(BpfProg.builder(t.kernel(), "study_" + f.name(), type).body(c -> 0).load());
            }
        } catch (RuntimeException e) {
            progs.forEach(BpfProg::close);
            throw e;
        }
        return new Loaded() {
            @Override
            public int programs() {
                return progs.size();
            }

            @Override
            public Attachment attach() {
                List<BpfTracingLink> links = new ArrayList<>(functions.size());
                try {
                    for (int i = 0; i < functions.size(); i++) {
                        links.add(t.attach(progs.get(i), functions.get(i)));
                    }
                } catch (RuntimeException e) {
                    links.forEach(BpfTracingLink::close);
                    unload();
                    throw e;
                }
                return new Attachment() {
                    @Override
                    public int links() {
                        return links.size();
                    }

                    @Override
                    public List<BpfProg> programs() {
                        return List.copyOf(progs);
                    }

                    @Override
                    public void close() {
                        for (BpfTracingLink l : links) {
                            l.close();
                        }
                        unload();
                    }
                };
            }

            @Override
            public void unload() {
                progs.forEach(BpfProg::close);
            }
        };
    }
}
