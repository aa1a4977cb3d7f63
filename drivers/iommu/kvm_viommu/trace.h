/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvm_viommu tracepoints: what an operator, or a benchmark that missed its
 * target, needs to see of the hot path.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_viommu

#if !defined(_KVM_VIOMMU_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _KVM_VIOMMU_TRACE_H_

#include <linux/tracepoint.h>

/* A doorbell rang: the guest wrote qt << 4 to IQT (atomic context). */
TRACE_EVENT(kvm_viommu_doorbell,
	    TP_PROTO(u32 id, u32 qt),
	    TP_ARGS(id, qt),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, qt)),
	    TP_fast_assign(__entry->id = id;
			   __entry->qt = qt;),
	    TP_printk("unit %u IQT.QT %u",
		      __entry->id, __entry->qt)
);

/* The queue was processed: done descriptors, IQH now iqh. */
TRACE_EVENT(kvm_viommu_iq_run,
	    TP_PROTO(u32 id, u32 done, u64 iqh, u64 iqt, bool iqe),
	    TP_ARGS(id, done, iqh, iqt, iqe),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, done)
			     __field(u64, iqh)
			     __field(u64, iqt)
			     __field(bool, iqe)),
	    TP_fast_assign(__entry->id = id;
			   __entry->done = done;
			   __entry->iqh = iqh;
			   __entry->iqt = iqt;
			   __entry->iqe = iqe;),
	    TP_printk("unit %u processed %u IQH 0x%llx IQT 0x%llx%s",
		      __entry->id, __entry->done, __entry->iqh,
		      __entry->iqt, __entry->iqe ? " IQE" : "")
);

/* A shadow sync of [start, end) for sid finished. */
TRACE_EVENT(kvm_viommu_sync,
	    TP_PROTO(u16 sid, u64 start, u64 end, int ret),
	    TP_ARGS(sid, start, end, ret),
	    TP_STRUCT__entry(__field(u16, sid)
			     __field(u64, start)
			     __field(u64, end)
			     __field(int, ret)),
	    TP_fast_assign(__entry->sid = sid;
			   __entry->start = start;
			   __entry->end = end;
			   __entry->ret = ret;),
	    TP_printk("sid %04x [0x%llx, 0x%llx) ret %d",
		      __entry->sid, __entry->start, __entry->end,
		      __entry->ret)
);

/* A guest leaf entered (map) or left the host domain. */
TRACE_EVENT(kvm_viommu_shadow,
	    TP_PROTO(u16 sid, bool map, u64 iova, u64 size, u64 gpa, int ret),
	    TP_ARGS(sid, map, iova, size, gpa, ret),
	    TP_STRUCT__entry(__field(u16, sid)
			     __field(bool, map)
			     __field(u64, iova)
			     __field(u64, size)
			     __field(u64, gpa)
			     __field(int, ret)),
	    TP_fast_assign(__entry->sid = sid;
			   __entry->map = map;
			   __entry->iova = iova;
			   __entry->size = size;
			   __entry->gpa = gpa;
			   __entry->ret = ret;),
	    TP_printk("sid %04x %s iova 0x%llx size 0x%llx gpa 0x%llx ret %d",
		      __entry->sid, __entry->map ? "map" : "unmap",
		      __entry->iova, __entry->size, __entry->gpa,
		      __entry->ret)
);

/* The sidecore poller took the register page (polled) or gave it back. */
TRACE_EVENT(kvm_viommu_sidecore,
	    TP_PROTO(u32 id, bool polled),
	    TP_ARGS(id, polled),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(bool, polled)),
	    TP_fast_assign(__entry->id = id;
			   __entry->polled = polled;),
	    TP_printk("unit %u register page %s", __entry->id,
		      __entry->polled ? "polled" : "write-tracked")
);

#endif /* _KVM_VIOMMU_TRACE_H_ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
