// SPDX-License-Identifier: GPL-2.0-only
/*
 * COM1: a 16450-style UART whose transmitter is always ready.  Output goes
 * to the VMM's stdout; there is no input.  The transmit-holding-register
 * empty interrupt is modelled because Linux's tty layer waits for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

/* Register offsets (DLAB = 0 unless said). */
#define UART_RX_TX	0	/* DLL with DLAB */
#define UART_IER	1	/* DLM with DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_LCR_DLAB	0x80
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool thri_pending;	/* THR empty, not yet reported by IIR */
	int level;		/* the IRQ line as last driven */
	char out[256];
	size_t out_len;
};

static void serial_flush(struct serial *s)
{
	size_t done = 0;

	while (done < s->out_len) {
		ssize_t n = write(STDOUT_FILENO, s->out + done,
				  s->out_len - done);

		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			done += n;
	}
	s->out_len = 0;
}

static void serial_update_irq(struct vmm *vmm, struct serial *s)
{
	int level = (s->ier & UART_IER_THRI) && s->thri_pending;

	if (level != s->level) {
		s->level = level;
		vmm_set_irq(vmm, COM1_IRQ, level);
	}
}

static void serial_read(struct vmm *vmm, void *opaque, uint64_t off,
			void *data, uint32_t len)
{
	struct serial *s = opaque;
	uint8_t v = 0;

	switch (off) {
	case UART_RX_TX:
		v = (s->lcr & UART_LCR_DLAB) ? s->dll : 0;
		break;
	case UART_IER:
		v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		if ((s->ier & UART_IER_THRI) && s->thri_pending) {
			v = UART_IIR_THRI;
			/* Reading IIR acknowledges the THRE interrupt. */
			s->thri_pending = false;
		} else {
			v = UART_IIR_NO_INT;
		}
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT;
		break;
	case UART_MSR:
		if (s->mcr & UART_MCR_LOOP)
			v = (s->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
			    (s->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
			    (s->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
			    (s->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
		else
			v = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	memset(data, 0, len);
	*(uint8_t *)data = v;
	serial_update_irq(vmm, s);
}

static void serial_write(struct vmm *vmm, void *opaque, uint64_t off,
			 const void *data, uint32_t len)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)len;
	switch (off) {
	case UART_RX_TX:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (!(s->mcr & UART_MCR_LOOP)) {
			s->out[s->out_len++] = v;
			if (v == '\n' || s->out_len == sizeof(s->out))
				serial_flush(s);
		}
		/* Sent at once: the holding register is empty again. */
		s->thri_pending = true;
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
			break;
		}
		if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
	serial_update_irq(vmm, s);
}

int serial_init(struct vmm *vmm)
{
	const struct bus_dev ops = {
		.read = serial_read,
		.write = serial_write,
	};
	struct bus_dev d = ops;

	vmm->serial = calloc(1, sizeof(*vmm->serial));
	if (!vmm->serial)
		return -ENOMEM;
	d.opaque = vmm->serial;
	return bus_add(&vmm->pio, PORT_COM1, 8, &d);
}

void serial_exit(struct vmm *vmm)
{
	if (!vmm->serial)
		return;
	serial_flush(vmm->serial);
	free(vmm->serial);
	vmm->serial = NULL;
}
