fn main() {
    clinicdesk_app_lib::run()
}
