// The UI tests' clock. Every test starts at TEST_NOW (src/test/setup.ts sets it before each
// test with vi.setSystemTime, so `Date.now()` and `new Date()` answer it and do not move on their
// own), whatever the machine's date and hour. That covers the screens' "now" (today's date, the
// time a booking starts at, countdowns) and the calendar's own: @event-calendar reads
// `new Date()` itself for its now line and its today, so faking Date is the one way to fix both.
// A test that needs another moment says so with `vi.setSystemTime`; `vi.useFakeTimers()` starts
// its clock at the moment set.

/** Monday 9 March 2026, 10:00 at the test clinic (America/Edmonton, MDT, UTC-6): the fixtures'
 *  day, within the schedule grid's hours (06:00-22:00), so the now line is drawn. */
export const TEST_NOW = Date.UTC(2026, 2, 9, 16, 0);
