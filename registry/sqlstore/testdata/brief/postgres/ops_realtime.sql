select 
  title as "标题"
  , content as "内容"
  , push_type as "推送类型"
  , ios_device_tokens as "iOS 设备"
  , ios_ret as "iOS 推送状态"
  , ios_response as "iOS 推送响应"
  , android_device_tokens as "Android 设备"
  , android_ret as "Android 推送状态"
  , android_response as "Android 推送响应"
from sys_push_messages 
order by id desc;
