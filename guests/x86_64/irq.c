/* irq: local APIC timer interrupts, then 16550 receive interrupts through the I/O APIC.
   Command line: "ticks=N" (default 5) timer interrupts of 1 ms; then it prints
   "ready for input", takes receive interrupts until a newline arrives and prints the line. */
#include "rt/rt.h"

#define COM1 0x3f8
static volatile int ticks, rx_irqs, got_line, len;
static char line[256];

static void timer(struct frame *f) { ticks++; lapic_eoi(); }

static void uart_rx(struct frame *f) {
    rx_irqs++;
    while (inb(COM1 + 5) & 1) {
        char c = (char)inb(COM1);
        if (c == '\r') c = '\n';
        if (len < (int)sizeof line - 1) line[len++] = c;
        if (c == '\n') got_line = 1;
    }
    (void)inb(COM1 + 2);
    lapic_eoi();
}

int main(void) {
    int want = (int)cmdline_num("ticks", 5);
    set_handler(0x40, timer);
    printf("waiting for %d ticks\n", want);
    u64 t0 = rdtsc();
    lapic_timer_periodic(0x40, 62500);  /* 1 ms: the KVM APIC bus runs at 1 GHz, divided by 16 */
    while (ticks < want) wait_irq();
    lapic_timer_stop();
    u64 t1 = rdtsc();
    CHECK(ticks >= want, "timer: %d ticks", ticks);
    printf("timer took %lu TSC cycles\n", t1 - t0);

    set_handler(0x41, uart_rx);
    ioapic_route(4, 0x41, 0, lapic_id());
    outb(COM1 + 1, 0x01);               /* IER: received data available */
    printf("ready for input\n");
    while (!got_line) wait_irq();
    outb(COM1 + 1, 0x00);
    line[len - 1] = 0;
    printf("received: %s\n", line);
    CHECK(rx_irqs > 0, "rx interrupts: %d", rx_irqs);
    return 0;
}
