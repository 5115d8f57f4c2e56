/// Where a `TopicBuffer` announces that its ring just became non-empty.
protocol ProducerScheduler: AnyObject {
    func schedule(_ buffer: TopicBuffer)
}
