// Every command the screens use, in one place, called through the generated bindings (typed by
// them). A command the Rust side has not added yet goes through `pending(name, ...args)` from
// ./api until it lands; then the line switches to `commands.name(...)` and the typecheck
// confirms the shape. (Today every command the screens use exists.) `commands.test.ts` fails when
// a Tauri command of the bindings has no line here.

import { commands } from "../bindings";
import type { AuditQuery, CredentialFilter, Fields, Id, ListQuery, Role } from "./types";
import type { AppointmentStatus } from "./types";

export const listQuery = (clinicId: Id | null, q: string | null = null, limit: number | null = null): ListQuery => ({
  clinic_id: clinicId, q, include_deleted: false, limit, offset: null,
});

export type { AuditQuery, CredentialFilter, ListQuery };

export const api = {
  appInfo: () => commands.appInfo(),
  login: (u: string, p: string) => commands.login(u, p),
  firstRunSetup: (clinic: Fields, username: string, password: string) => commands.firstRunSetup(clinic, username, password),
  sessionStatus: () => commands.sessionStatus(),
  logout: () => commands.logout(),
  lock: () => commands.lock(),
  unlock: (password: string) => commands.unlock(password),
  activity: () => commands.activity(),
  getIdleTimeout: () => commands.getIdleTimeout(),
  setIdleTimeout: (minutes: number) => commands.setIdleTimeout(minutes),
  // The database key's safety net
  takeRecoveryKey: () => commands.takeRecoveryKey(),
  recoveryKit: () => commands.recoveryKit(),
  startNewDatabase: () => commands.startNewDatabase(),
  restoreNewDatabase: (recoveryKey: string) => commands.restoreNewDatabase(recoveryKey),
  /** Ask Rust to stop a long task; false when no such task runs. */
  cancelTask: (taskId: string) => commands.cancelTask(taskId),
  /** Whether this PC syncs, is online, has changes waiting, and the last error. */
  syncStatus: () => commands.syncStatus(),
  // Admin → Sync (administrators): the owner's password is an argument, never kept.
  syncTestConnection: (serverUrl: string, ownerPassword: string) => commands.syncTestConnection(serverUrl, ownerPassword),
  syncEnrol: (serverUrl: string, ownerPassword: string, seed: boolean) => commands.syncEnrol(serverUrl, ownerPassword, seed),
  syncDevices: (serverUrl: string, ownerPassword: string) => commands.syncDevices(serverUrl, ownerPassword),
  syncRevokeDevice: (serverUrl: string, ownerPassword: string, deviceId: string) => commands.syncRevokeDevice(serverUrl, ownerPassword, deviceId),
  syncNow: () => commands.syncNow(),

  // Organisation
  listClinics: (q: ListQuery) => commands.listClinics(q),
  createClinic: (f: Fields) => commands.createClinic(f),
  updateClinic: (id: Id, f: Fields) => commands.updateClinic(id, f),
  listUsers: (q: ListQuery) => commands.listUsers(q),
  createUser: (f: Fields, password: string) => commands.createUser(f, password),
  updateUser: (id: Id, f: Fields) => commands.updateUser(id, f),
  setPassword: (id: Id, password: string) => commands.setPassword(id, password),
  changeOwnPassword: (current: string, next: string) => commands.changeOwnPassword(current, next),
  displayPreferences: () => commands.displayPreferences(),
  setDisplayPreferences: (f: Fields) => commands.setDisplayPreferences(f),
  listRoles: (clinicId: Id) => commands.listRoles(clinicId),
  grantRole: (userId: Id, clinicId: Id, role: Role) => commands.grantRole(userId, clinicId, role),
  revokeRole: (userId: Id, clinicId: Id, role: Role) => commands.revokeRole(userId, clinicId, role),

  // People and catalog
  listStaff: (q: ListQuery) => commands.listStaff(q),
  createStaff: (clinicId: Id, f: Fields) => commands.createStaff(clinicId, f),
  updateStaff: (id: Id, f: Fields) => commands.updateStaff(id, f),
  getPatient: (id: Id) => commands.getPatient(id),
  searchPatients: (query: string, limit: number) => commands.searchPatients(query, limit),
  createPatient: (clinicId: Id, f: Fields) => commands.createPatient(clinicId, f),
  listRooms: (q: ListQuery) => commands.listRooms(q),
  createRoom: (clinicId: Id, f: Fields) => commands.createRoom(clinicId, f),
  updateRoom: (id: Id, f: Fields) => commands.updateRoom(id, f),
  listCredentialTypes: (q: ListQuery) => commands.listCredentialTypes(q),
  createCredentialType: (f: Fields) => commands.createCredentialType(f),
  listShiftTemplates: (q: ListQuery) => commands.listShiftTemplates(q),
  createShiftTemplate: (clinicId: Id, f: Fields) => commands.createShiftTemplate(clinicId, f),

  // Scheduling
  listAppointmentTypes: (clinicId: Id) => commands.listAppointmentTypes(clinicId),
  daySchedule: (clinicId: Id, date: string, providerId: Id | null) => commands.daySchedule(clinicId, date, providerId),
  availableSlots: (clinicId: Id, providerId: Id | null, duration: number, from: string, to: string) =>
    commands.availableSlots(clinicId, providerId, duration, from, to),
  weekSchedule: (clinicId: Id, start: string, providerId: Id | null) => commands.weekSchedule(clinicId, start, providerId),
  listAvailabilityBlocks: (clinicId: Id, from: string, to: string, providerId: Id | null) => commands.listAvailabilityBlocks(clinicId, from, to, providerId),
  createAppointmentType: (clinicId: Id, f: Fields) => commands.createAppointmentType(clinicId, f),
  createAvailabilityBlock: (clinicId: Id, f: Fields) => commands.createAvailabilityBlock(clinicId, f),
  deleteAvailabilityBlock: (id: Id) => commands.deleteAvailabilityBlock(id),
  generateClosures: (clinicId: Id, f: Fields) => commands.generateClosures(clinicId, f),
  getAppointment: (id: Id) => commands.getAppointment(id),
  // The sync conflicts inbox (issue 13)
  listSyncConflicts: (all: boolean) => commands.listSyncConflicts(all),
  resolveSyncConflict: (id: Id, resolution: "rebooked" | "waitlisted" | "dismissed", note: string | null, rebookedAppointmentId: Id | null) =>
    commands.resolveSyncConflict(id, resolution, note, rebookedAppointmentId),
  suggestRebookSlots: (conflictId: Id) => commands.suggestRebookSlots(conflictId),
  rebookSyncConflict: (conflictId: Id, providerId: Id, start: string, note: string | null) => commands.rebookSyncConflict(conflictId, providerId, start, note),
  waitlistSyncConflict: (conflictId: Id, note: string | null) => commands.waitlistSyncConflict(conflictId, note),
  bookAppointment: (clinicId: Id, f: Fields) => commands.bookAppointment(clinicId, f),
  rescheduleAppointment: (id: Id, f: Fields) => commands.rescheduleAppointment(id, f),
  setAppointmentStatus: (id: Id, action: string, reason: string | null) => commands.setAppointmentStatus(id, action, reason),
  previewSeries: (clinicId: Id, f: Fields) => commands.previewSeries(clinicId, f),
  bookSeries: (clinicId: Id, f: Fields) => commands.bookSeries(clinicId, f),
  /** `scope`: one, following or all occurrences of the appointment's series. */
  editSeries: (id: Id, scope: string, f: Fields) => commands.editSeries(id, scope, f),
  cancelSeries: (id: Id, scope: string, reason: string) => commands.cancelSeries(id, scope, reason),
  /** Managers: out of a final status, with a reason. */
  correctAppointmentStatus: (id: Id, to: AppointmentStatus, reason: string) => commands.correctAppointmentStatus(id, to, reason),
  todaysAppointments: (clinicId: Id, providerId: Id | null) => commands.todaysAppointments(clinicId, providerId),

  // Waitlist
  listWaitlist: (clinicId: Id) => commands.listWaitlist(clinicId),
  addToWaitlist: (clinicId: Id, f: Fields) => commands.addToWaitlist(clinicId, f),
  removeFromWaitlist: (id: Id) => commands.removeFromWaitlist(id),
  acceptOffer: (offerId: string) => commands.acceptOffer(offerId),
  declineOffer: (offerId: string) => commands.declineOffer(offerId),

  // Reminders
  pendingReminders: (clinicId: Id, untilMs: number | null) => commands.pendingReminders(clinicId, untilMs),
  /** Writes the CSV to a file on this PC. */
  exportPendingRemindersCsv: (clinicId: Id, untilMs: number | null) => commands.exportPendingRemindersCsv(clinicId, untilMs),
  markReminder: (id: Id, outcome: string, failureReason: string | null) => commands.markReminder(id, outcome, failureReason),


  // Credentials
  credentialDashboard: (filter: CredentialFilter) => commands.credentialDashboard(filter),
  listCredentialAlerts: (filter: CredentialFilter, includeAcknowledged: boolean) => commands.listCredentialAlerts(filter, includeAcknowledged),
  acknowledgeCredentialAlert: (id: Id) => commands.acknowledgeCredentialAlert(id),
  renewCredential: (id: Id, f: Fields) => commands.renewCredential(id, f),
  recordCredentialVerification: (id: Id, f: Fields) => commands.recordCredentialVerification(id, f),
  /** One staff member's credentials (`staffId`), or a clinic's (`q.clinic_id`). */
  listCredentials: (staffId: Id | null, q: ListQuery) => commands.listCredentials(staffId, q),
  createCredential: (staffId: Id, f: Fields) => commands.createCredential(staffId, f),
  recordAdverseAction: (id: Id, f: Fields) => commands.recordAdverseAction(id, f),
  credentialHistory: (id: Id) => commands.credentialHistory(id),

  // Staffing
  listRoster: (clinicId: Id, from: string, to: string, staffId: Id | null) => commands.listRoster(clinicId, from, to, staffId),
  assignShift: (clinicId: Id, f: Fields) => commands.assignShift(clinicId, f),
  /** `status`: requested, approved, rejected, cancelled; null = all. */
  listSwaps: (clinicId: Id, status: string | null) => commands.listSwaps(clinicId, status),
  decideSwap: (id: Id, approve: boolean, note: string | null, overrideReason: string | null) => commands.decideSwap(id, approve, note, overrideReason),
  listTimeOff: (clinicId: Id, status: string | null) => commands.listTimeOff(clinicId, status),
  decideTimeOff: (id: Id, approve: boolean, note: string | null) => commands.decideTimeOff(id, approve, note),
  listCoverageNeeds: (clinicId: Id, status: string | null) => commands.listCoverageNeeds(clinicId, status),
  fillCoverageNeed: (id: Id, staffId: Id, overrideReason: string | null) => commands.fillCoverageNeed(id, staffId, overrideReason),
  createCoverageNeed: (clinicId: Id, f: Fields) => commands.createCoverageNeed(clinicId, f),
  cancelCoverageNeed: (id: Id, reason: string) => commands.cancelCoverageNeed(id, reason),
  /** Staff ask for their own (managers for anyone). */
  requestSwap: (f: Fields) => commands.requestSwap(f),
  requestTimeOff: (clinicId: Id, f: Fields) => commands.requestTimeOff(clinicId, f),
  cancelTimeOff: (id: Id) => commands.cancelTimeOff(id),
  /** The signed-in user's own requests (`status` null: every status); not_found without a staff profile. */
  mySwaps: (clinicId: Id | null, status: string | null) => commands.mySwaps(clinicId, status),
  myTimeOff: (clinicId: Id | null, status: string | null) => commands.myTimeOff(clinicId, status),
  /** Withdraw a swap while it is requested (the requester, or a manager). */
  cancelSwap: (id: Id) => commands.cancelSwap(id),

  // Cases
  listCases: (clinicId: Id, status: string | null) => commands.listCases(clinicId, status),
  getCaseDetail: (id: Id) => commands.getCaseDetail(id),
  setCaseStatus: (id: Id, status: string) => commands.setCaseStatus(id, status),
  createCase: (clinicId: Id, f: Fields) => commands.createCase(clinicId, f),
  setCasePriority: (id: Id, priority: string) => commands.setCasePriority(id, priority),
  /** `caseId` null unlinks. */
  linkAppointmentToCase: (appointmentId: Id, caseId: Id | null) => commands.linkAppointmentToCase(appointmentId, caseId),
  caseWarnings: (clinicId: Id, withinDays: number) => commands.caseWarnings(clinicId, withinDays),

  // KPIs and capacity
  kpiReport: (clinicId: Id, period: string, from: string, to: string) => commands.kpiReport(clinicId, period, from, to),
  listGoals: (clinicId: Id) => commands.listGoals(clinicId),
  createGoal: (clinicId: Id, f: Fields) => commands.createGoal(clinicId, f),
  /** `date` null: the clinic's today. */
  goalProgress: (clinicId: Id, date: string | null) => commands.goalProgress(clinicId, date),
  listCapacitySnapshots: (clinicId: Id, from: string | null, to: string | null, limit: number | null) => commands.listCapacitySnapshots(clinicId, from, to, limit),
  takeCapacitySnapshot: (clinicId: Id) => commands.takeCapacitySnapshot(clinicId),

  // Admin
  /** Long tasks: `progress` events carry `taskId` as their `task`. */
  backup: (taskId: string) => commands.backup(taskId),
  restore: (taskId: string) => commands.restore(taskId),
  /** `size`: small or large; only into a new, empty database. */
  generateDemo: (taskId: string, size: string, password: string) => commands.generateDemo(taskId, size, password),
  /** Patients from CSV text (all rows or none; rows imported before are skipped); bad rows come back in the result. */
  importPatients: (taskId: string, clinicId: Id, csv: string) => commands.importPatients(taskId, clinicId, csv),
  // Interop: the app opens the dialogs and owns the paths (null: the user cancelled the dialog).
  /** FHIR bulk export into a folder; free slots for `from`..`to` (none when `from` is null). */
  exportFhir: (taskId: string, from: string | null, to: string | null) => commands.exportFhir(taskId, from, to),
  /** FHIR resources from chosen files into the clinic (all or none); bad resources come back in the result. */
  importFhir: (taskId: string, clinicId: Id) => commands.importFhir(taskId, clinicId),
  /** A provider's appointments `from`..`to` (inclusive) as an .ics file. */
  exportIcs: (providerId: Id, from: string, to: string, withoutPatientNames: boolean) =>
    commands.exportIcs(providerId, from, to, withoutPatientNames),
  /** A holiday calendar (.ics) as the clinic's closures. */
  importHolidays: (clinicId: Id) => commands.importHolidays(clinicId),
  verifyAudit: () => commands.verifyAudit(),
  /** The audit chain's head as last anchored on the sync server, and any flag. */
  auditAnchor: () => commands.auditAnchor(),
  listAudit: (query: AuditQuery) => commands.listAudit(query),
  // Commands no screen calls yet: listed so every Tauri command has its one line here
  // (commands.test.ts checks the bindings against this file).
  getClinic: (clinicId: Id) => commands.getClinic(clinicId),
  clinicDirectory: (clinicId: Id) => commands.clinicDirectory(clinicId),
  updatePatient: (patientId: Id, f: Fields) => commands.updatePatient(patientId, f),
  getStaff: (staffId: Id) => commands.getStaff(staffId),
  credentialExpiries: (filter: CredentialFilter) => commands.credentialExpiries(filter),
  credentialsAtRisk: (filter: CredentialFilter) => commands.credentialsAtRisk(filter),
  updateCredential: (credentialId: Id, f: Fields) => commands.updateCredential(credentialId, f),
  assignShiftsBulk: (clinicId: Id, f: Fields) => commands.assignShiftsBulk(clinicId, f),
  setShiftStatus: (scheduleId: Id, action: string) => commands.setShiftStatus(scheduleId, action),
  updateCase: (caseId: Id, f: Fields) => commands.updateCase(caseId, f),
  recordKpiEvent: (clinicId: Id, f: Fields) => commands.recordKpiEvent(clinicId, f),
  deleteUser: (userId: Id) => commands.deleteUser(userId),
  deleteRoom: (roomId: Id) => commands.deleteRoom(roomId),
  updateCredentialType: (credentialTypeId: Id, f: Fields) => commands.updateCredentialType(credentialTypeId, f),
  deleteCredentialType: (credentialTypeId: Id) => commands.deleteCredentialType(credentialTypeId),
  updateShiftTemplate: (shiftId: Id, f: Fields) => commands.updateShiftTemplate(shiftId, f),
  deleteShiftTemplate: (shiftId: Id) => commands.deleteShiftTemplate(shiftId),
};
